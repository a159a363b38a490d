using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Engine.Configuration;

/// <summary>
/// How the kernel asks for modules itself (request_module: "fs-msdos", "net-pf-10",
/// "char-major-10-229", "crypto-sha256", "devname:fuse"): it runs the helper named in
/// /proc/sys/kernel/modprobe (normally /sbin/modprobe) with the name. An empty helper turns such
/// requests off; /proc/sys/kernel/modules_disabled = 1 turns off all loading until reboot.
/// </summary>
public sealed record KernelRequestSettings(string? HelperPath, bool? RequestsDisabled, bool? LoadingDisabled, string HelperSource, string LoadingSource)
{
    public const string HelperFile = "/proc/sys/kernel/modprobe";
    public const string ModulesDisabledFile = "/proc/sys/kernel/modules_disabled";

    /// <summary>Reads both files under the root; a value is null when its file is missing (a kernel without module support, or an image).</summary>
    public static KernelRequestSettings Read(SystemRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var helperPath = root.Resolve(HelperFile);
        var disabledPath = root.Resolve(ModulesDisabledFile);
        var helper = SysfsAttribute.Read(helperPath).Value;
        var disabled = SysfsAttribute.ReadInt64(disabledPath);
        return new KernelRequestSettings(helper, helper is null ? null : helper.Trim().Length == 0,
            disabled is null ? null : disabled != 0, helperPath, disabledPath);
    }

    public override string ToString() =>
        $"helper {(HelperPath is null ? "unknown" : HelperPath.Length == 0 ? "(none: requests off)" : HelperPath)}, loading {(LoadingDisabled == true ? "disabled" : "enabled")}";
}
