namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// Kernel-wide settings that decide what may be loaded. Most are facts (Informational): a Debian
/// system without Secure Boot legitimately runs without signature enforcement or lockdown. Only a
/// module helper that is not modprobe is a finding, because the kernel runs that program as root
/// on every module autoload request.
/// </summary>
internal static class KernelSettingsChecks
{
    /// <summary>Folders a distribution's modprobe lives in.</summary>
    private static readonly string[] HelperFolders = ["/sbin", "/usr/sbin", "/bin", "/usr/bin"];

    public static IEnumerable<AuditFinding> Check(KernelSecuritySettings settings, SystemRoot root)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(root);
        yield return SignatureEnforcement(settings);
        yield return Lockdown(settings);
        yield return ModulesDisabled(settings);
        yield return ModuleHelper(settings, root);
    }

    private static AuditFinding SignatureEnforcement(KernelSecuritySettings s)
    {
        var evidence = new[] { $"{KernelSecuritySettings.SignatureEnforcementPath}: {s.SignatureEnforcement ?? "(absent)"}" };
        return s.SignatureEnforcement switch
        {
            "Y" or "1" => Info(AuditCheck.SignatureEnforcement, "Module signatures are enforced: the kernel refuses modules it cannot verify.", evidence, null),
            null => Info(AuditCheck.SignatureEnforcement, "The kernel does not check module signatures (built without CONFIG_MODULE_SIG), so no module's signature was verified.", evidence,
                "Use a kernel built with module signing to have the kernel verify what it loads."),
            _ => Info(AuditCheck.SignatureEnforcement, "Module signatures are checked but not enforced: an unsigned module loads and taints the kernel (E).", evidence,
                "To refuse unsigned modules, boot with module.sig_enforce=1, or enable Secure Boot (which turns on lockdown and enforcement on Debian)."),
        };
    }

    private static AuditFinding Lockdown(KernelSecuritySettings s)
    {
        var evidence = new[] { $"{KernelSecuritySettings.LockdownPath}: {s.Lockdown ?? "(absent)"}" };
        return s.LockdownMode switch
        {
            null => Info(AuditCheck.Lockdown, "The lockdown mode cannot be read (no lockdown LSM, or securityfs is not mounted at /sys/kernel/security).", evidence, null),
            "none" => Info(AuditCheck.Lockdown, "Kernel lockdown is off: root can load unsigned modules and write kernel memory.", evidence,
                "Boot with lockdown=integrity (or enable Secure Boot) to stop root from changing the running kernel."),
            var mode => Info(AuditCheck.Lockdown, $"Kernel lockdown is '{mode}': only modules the kernel can verify load.", evidence, null),
        };
    }

    private static AuditFinding ModulesDisabled(KernelSecuritySettings s)
    {
        var evidence = new[] { $"{KernelSecuritySettings.ModulesDisabledPath}: {s.ModulesDisabled ?? "(absent)"}" };
        return s.ModulesDisabled switch
        {
            "1" => Info(AuditCheck.ModulesDisabled, "Module loading is disabled until reboot: no module can be loaded or unloaded.", evidence, null),
            null => Info(AuditCheck.ModulesDisabled, "Whether module loading is disabled cannot be read.", evidence, null),
            _ => Info(AuditCheck.ModulesDisabled, "Modules can still be loaded.", evidence,
                "Once every needed module is loaded, writing 1 to /proc/sys/kernel/modules_disabled stops further loading until reboot."),
        };
    }

    private static AuditFinding ModuleHelper(KernelSecuritySettings s, SystemRoot root)
    {
        var helper = s.ModuleHelper;
        var evidence = new List<string> { $"{KernelSecuritySettings.ModuleHelperPath}: {helper ?? "(absent)"}" };
        if (helper is null)
            return Info(AuditCheck.ModuleHelper, "The module helper path cannot be read.", [.. evidence], null);
        if (helper.Length == 0)
            return Info(AuditCheck.ModuleHelper, "The kernel's module autoloading is off (empty helper path).", [.. evidence], null);

        const string remedy = "Unless you set it on purpose, write the distribution's modprobe back (echo /sbin/modprobe > /proc/sys/kernel/modprobe), find what changed it (sysctl.d, boot scripts), and inspect the program it named.";
        if (!helper.StartsWith('/'))
            return Finding(AuditSeverity.High, AuditCheck.ModuleHelper, $"The module helper '{helper}' is not an absolute path.", [.. evidence], remedy);

        var file = root.Resolve(helper);
        FileSystemInfo? target = null;
        try
        {
            var info = new FileInfo(file);
            target = info.Exists ? (info.ResolveLinkTarget(returnFinalTarget: true) ?? info) : null;
        }
        catch (IOException) { }
        if (target is null)
            return Finding(AuditSeverity.Medium, AuditCheck.ModuleHelper, $"The module helper {helper} does not exist: module autoloading fails.", [.. evidence],
                "Install kmod, or point /proc/sys/kernel/modprobe at the installed modprobe.");
        if (target.FullName != file) evidence.Add($"{helper} -> {(root.IsHost ? target.FullName : "/" + Path.GetRelativePath(root.Path, target.FullName))}");

        var folder = Path.GetDirectoryName(helper) ?? "";
        var expected = Path.GetFileName(helper) == "modprobe" && HelperFolders.Contains(folder);
        if (!expected)
            return Finding(AuditSeverity.High, AuditCheck.ModuleHelper,
                $"The kernel runs {helper} as root for every module autoload request: that is not a modprobe in a system folder.", [.. evidence], remedy);

        var mode = OperatingSystem.IsWindows() ? UnixFileMode.None : File.GetUnixFileMode(target.FullName);
        if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            return Finding(AuditSeverity.High, AuditCheck.ModuleHelper, $"The module helper {helper} is writable by others ({mode}): anyone who can write it runs code as root.",
                [.. evidence], $"chmod go-w {target.FullName}, and check the file against its package (dpkg --verify kmod).");
        return Info(AuditCheck.ModuleHelper, $"The kernel autoloads modules with {helper}.", [.. evidence], null);
    }

    private static AuditFinding Info(AuditCheck check, string message, string[] evidence, string? remedy) =>
        new(AuditSeverity.Informational, check, AuditFinding.KernelSubject, message, evidence, [], remedy);

    private static AuditFinding Finding(AuditSeverity severity, AuditCheck check, string message, string[] evidence, string remedy) =>
        new(severity, check, AuditFinding.KernelSubject, message, evidence, [AttackTechnique.KernelModules], remedy);
}
