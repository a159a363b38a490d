namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// There is no /lib/modules/&lt;version&gt; under the root. The message lists the versions that are
/// installed, because the usual cause is a typo or a kernel that was removed.
/// </summary>
public sealed class KernelNotInstalledException : Exception
{
    public KernelNotInstalledException(string kernelVersion, SystemRoot root, IReadOnlyList<string> installedVersions)
        : base(Format(kernelVersion, root, installedVersions))
    {
        KernelVersion = kernelVersion;
        Root = root;
        InstalledVersions = installedVersions;
    }

    public string KernelVersion { get; }
    public SystemRoot Root { get; }
    public IReadOnlyList<string> InstalledVersions { get; }

    private static string Format(string version, SystemRoot root, IReadOnlyList<string> installed)
    {
        var folder = root.ModulesDirectory(version);
        var what = installed.Count > 0
            ? "installed: " + string.Join(", ", installed)
            : $"no kernel has modules installed there ({root.ModulesFolder} is missing or empty)";
        // The tree may be in the other usual module directory (kmod 34's depmod -m chooses between them).
        var other = root.ModuleDirectory == SystemRoot.DefaultModuleDirectory ? SystemRoot.UsrModuleDirectory : SystemRoot.DefaultModuleDirectory;
        var elsewhere = root.ResolveFolder(other + "/" + version);
        var hint = Directory.Exists(elsewhere) ? $"; {elsewhere} exists: this root keeps its modules in {other}" : "";
        // "under ROOT" only for another root: on this machine the folder named says where.
        return $"No modules are installed for kernel {version}{(root.IsHost ? "" : " under " + root)} ({folder} does not exist); {what}{hint}.";
    }
}
