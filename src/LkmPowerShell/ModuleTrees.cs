using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell;

/// <summary>Opens /lib/modules/&lt;version&gt; for a cmdlet, reporting a missing kernel as one ErrorRecord.</summary>
internal static class ModuleTrees
{
    /// <summary>
    /// The kernel version to use: the one asked for; else the running kernel's (for the host root,
    /// or an image whose /proc says); else the only one installed under the root.
    /// </summary>
    public static string? DefaultVersion(SystemRoot root)
    {
        var release = new RunningKernel(root).Release;
        var installed = ModuleDirectory.InstalledKernelVersions(root);
        if (release is not null && (root.IsHost || installed.Contains(release)))
            return release;
        return installed.Count == 1 ? installed[0] : release;
    }

    /// <summary>
    /// The one check of a kernel version a cmdlet is about to use: none could be found
    /// (KernelVersionUnknown), or the text cannot be a version (InvalidKernelVersion); null when it can be used.
    /// </summary>
    public static ErrorRecord? VersionError(SystemRoot root, string? version)
    {
        if (version is null)
        {
            var installed = ModuleDirectory.InstalledKernelVersions(root);
            return ModuleErrors.New(new ArgumentException(
                $"Which kernel? The running kernel's release cannot be read under {root}, and {(installed.Count == 0 ? "no kernel has modules installed there" : "several are installed: " + string.Join(", ", installed))}."),
                "KernelVersionUnknown", ErrorCategory.InvalidArgument, root.Path, "KernelVersionUnknown", root.Path.TrimEnd('/'));
        }
        return ModuleDirectory.KernelVersionProblem(version) is { } problem
            ? ModuleErrors.New(new ArgumentException($"'{version}' is not a kernel version: {problem}."), "InvalidKernelVersion", ErrorCategory.InvalidArgument, version, "InvalidKernelVersion")
            : null;
    }

    public static ModuleDirectory? Open(PSCmdlet cmdlet, SystemRoot root, string? kernelVersion)
    {
        if (!root.ModuleDirectoryGiven && root.ModuleDirectory != SystemRoot.DefaultModuleDirectory)
            cmdlet.WriteVerbose($"{root.Resolve(SystemRoot.DefaultModuleDirectory)} does not exist; reading the module trees in {root.ModulesFolder} (-ModuleDirectory names another folder).");
        var version = kernelVersion ?? DefaultVersion(root);
        if (VersionError(root, version) is { } error)
        {
            cmdlet.WriteError(error);
            return null;
        }
        try
        {
            return ModuleDirectory.Open(root, version!);
        }
        catch (KernelNotInstalledException e)
        {
            cmdlet.WriteError(ModuleErrors.For(e));
            return null;
        }
    }

    /// <summary>
    /// For the write cmdlets: the tree, or <see cref="ModuleDirectory.Absent"/> when that kernel has
    /// none under the root (said in a Verbose line), so what needs only the kernel still works; null
    /// after the ErrorRecord when no usable version is known.
    /// </summary>
    public static ModuleDirectory? OpenOrAbsent(PSCmdlet cmdlet, SystemRoot root, string? kernelVersion)
    {
        var version = kernelVersion ?? DefaultVersion(root);
        if (version is not null && ModuleDirectory.KernelVersionProblem(version) is null && !Directory.Exists(root.ModulesDirectory(version)))
        {
            cmdlet.WriteVerbose($"{root.ModulesDirectory(version)} does not exist: removing by name and loading a file by path work without it; what needs the module tree says so.");
            return ModuleDirectory.Absent(root, version);
        }
        return Open(cmdlet, root, kernelVersion);
    }

    /// <summary>The version whose tree is installed under the root: the one given, else the default; null when its folder does not exist (or it cannot be a version).</summary>
    public static string? InstalledVersion(SystemRoot root, string? kernelVersion)
    {
        var version = kernelVersion ?? DefaultVersion(root);
        return version is not null && ModuleDirectory.KernelVersionProblem(version) is null && Directory.Exists(root.ModulesDirectory(version)) ? version : null;
    }

    /// <summary>
    /// For the cmdlets a tree only adds to (configuration, boot entries, parameter types): the tree
    /// when there is one. A version asked for must exist (else its ErrorRecord and
    /// <paramref name="failed"/>); without one, a missing tree is quietly null.
    /// </summary>
    public static ModuleDirectory? OpenIfInstalled(PSCmdlet cmdlet, SystemRoot root, string? kernelVersion, out bool failed)
    {
        failed = false;
        if (kernelVersion is null && InstalledVersion(root, null) is null)
            return null;
        var tree = Open(cmdlet, root, kernelVersion);
        failed = tree is null;
        return tree;
    }
}
