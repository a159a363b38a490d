using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// The kernel-wide settings that decide what may be loaded, read under a root. Each is null when
/// its file is missing or unreadable; the file paths are kept for the evidence.
/// </summary>
internal sealed record KernelSecuritySettings(
    string? SignatureEnforcement,
    string? Lockdown,
    string? ModulesDisabled,
    string? ModuleHelper)
{
    public const string SignatureEnforcementPath = "/sys/module/module/parameters/sig_enforce";
    public const string LockdownPath = "/sys/kernel/security/lockdown";
    public const string ModulesDisabledPath = "/proc/sys/kernel/modules_disabled";
    public const string ModuleHelperPath = "/proc/sys/kernel/modprobe";

    public static KernelSecuritySettings Read(SystemRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        string? Value(string path) => SysfsAttribute.Read(root.Resolve(path)).Value?.Trim();
        return new KernelSecuritySettings(
            Value(SignatureEnforcementPath), Value(LockdownPath), Value(ModulesDisabledPath), Value(ModuleHelperPath));
    }

    /// <summary>The selected lockdown mode: the word in brackets of "[none] integrity confidentiality".</summary>
    public string? LockdownMode
    {
        get
        {
            if (Lockdown is null) return null;
            var open = Lockdown.IndexOf('[');
            var close = open >= 0 ? Lockdown.IndexOf(']', open) : -1;
            return close > open ? Lockdown[(open + 1)..close] : Lockdown;
        }
    }
}
