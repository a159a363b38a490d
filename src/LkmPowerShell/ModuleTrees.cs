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

    public static ModuleDirectory? Open(PSCmdlet cmdlet, SystemRoot root, string? kernelVersion)
    {
        if (!root.ModuleDirectoryGiven && root.ModuleDirectory != SystemRoot.DefaultModuleDirectory)
            cmdlet.WriteVerbose($"{root.Resolve(SystemRoot.DefaultModuleDirectory)} does not exist; reading the module trees in {root.ModulesFolder} (-ModuleDirectory names another folder).");
        var version = kernelVersion ?? DefaultVersion(root);
        if (version is null)
        {
            var installed = ModuleDirectory.InstalledKernelVersions(root);
            cmdlet.WriteError(ModuleErrors.New(new ArgumentException(
                $"Which kernel? The running kernel's release cannot be read under {root}, and {(installed.Count == 0 ? "no kernel has modules installed there" : "several are installed: " + string.Join(", ", installed))}."),
                "KernelVersionUnknown", ErrorCategory.InvalidArgument, root.Path, "KernelVersionUnknown", root.Path.TrimEnd('/')));
            return null;
        }
        if (ModuleDirectory.KernelVersionProblem(version) is { } problem)
        {
            cmdlet.WriteError(ModuleErrors.New(new ArgumentException($"'{version}' is not a kernel version: {problem}."),
                "InvalidKernelVersion", ErrorCategory.InvalidArgument, version, "InvalidKernelVersion"));
            return null;
        }
        try
        {
            return ModuleDirectory.Open(root, version);
        }
        catch (KernelNotInstalledException e)
        {
            cmdlet.WriteError(ModuleErrors.New(e, "KernelNotInstalled", ErrorCategory.ObjectNotFound, version, "KernelNotInstalled"));
            return null;
        }
    }
}
