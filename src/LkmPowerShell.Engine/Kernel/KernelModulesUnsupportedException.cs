namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// The running kernel cannot have loaded modules: it was built without CONFIG_MODULES, so
/// /proc/modules does not exist. This is a fact about the kernel, not an error in a file, and the
/// message says so in the terms a user can check.
/// </summary>
public sealed class KernelModulesUnsupportedException : InvalidOperationException
{
    public KernelModulesUnsupportedException(string? release, string procModulesPath, string? message = null)
        : base(message ?? DefaultMessage(release, procModulesPath))
    {
        Release = release;
        ProcModulesPath = procModulesPath;
    }

    /// <summary>The kernel's release (uname -r), when known.</summary>
    public string? Release { get; }

    /// <summary>The /proc/modules path that was looked for, under the root.</summary>
    public string ProcModulesPath { get; }

    public static string DefaultMessage(string? release, string procModulesPath) =>
        $"This kernel{(release is null ? "" : $" ({release})")} has no loadable-module support: {procModulesPath} does not exist.";
}
