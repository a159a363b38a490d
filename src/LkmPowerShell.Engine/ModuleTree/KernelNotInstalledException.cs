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
            : $"no kernel has modules installed there ({root.Resolve("/lib/modules")} is missing or empty)";
        return $"No modules are installed for kernel {version} under {root} ({folder} does not exist); {what}.";
    }
}
