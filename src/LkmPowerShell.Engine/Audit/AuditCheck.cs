namespace LkmPowerShell.Engine.Audit;

/// <summary>Which check produced a finding: stable names a script can filter on.</summary>
public enum AuditCheck
{
    /// <summary>/proc/sys/kernel/tainted, decoded flag by flag.</summary>
    KernelTaint,

    /// <summary>A module taint bit of the kernel that no module in /proc/modules carries.</summary>
    UnexplainedTaint,

    /// <summary>/sys/module/module/parameters/sig_enforce.</summary>
    SignatureEnforcement,

    /// <summary>/sys/kernel/security/lockdown.</summary>
    Lockdown,

    /// <summary>/proc/sys/kernel/modules_disabled.</summary>
    ModulesDisabled,

    /// <summary>/proc/sys/kernel/modprobe: the program the kernel runs to autoload modules.</summary>
    ModuleHelper,

    /// <summary>A loaded module that passed every per-module check: its facts.</summary>
    Module,

    /// <summary>Whether the kernel verified a module's signature, and who signed the installed file.</summary>
    ModuleSignature,

    /// <summary>A loaded module's own taint letters (/sys/module/&lt;name&gt;/taint).</summary>
    ModuleTaint,

    /// <summary>Where the installed file lives: the kernel's own tree, or updates/, extra/ and the like.</summary>
    ModuleOrigin,

    /// <summary>Whether an installed file for the running kernel matches the loaded module (name, srcversion, in-tree flag).</summary>
    ModuleFile,

    /// <summary>The running kernel's installed module tree (/lib/modules/&lt;release&gt;).</summary>
    ModuleTree,

    /// <summary>/sys/module/&lt;name&gt; with an initstate, but no line in /proc/modules.</summary>
    HiddenFromModuleList,

    /// <summary>A line in /proc/modules without its /sys/module/&lt;name&gt; directory.</summary>
    MissingFromSysfs,

    /// <summary>/proc/kallsyms owners against /proc/modules.</summary>
    KallsymsOwner,

    /// <summary>Kernel log lines about tainting modules that are no longer listed.</summary>
    KernelLog,

    /// <summary>Module-area memory (/proc/vmallocinfo) that no listed module, BPF program or trampoline occupies.</summary>
    ModuleMemory,

    /// <summary>An installed module file's signature, verified against the kernel image's certificates (and the user's).</summary>
    ModuleIntegrity,

    /// <summary>What the initramfs carries: modules disabled only outside it, copies that differ from the installed files, modules no installed kernel has.</summary>
    Initramfs,

    /// <summary>A view the audit could not read, so the checks that need it did not run.</summary>
    Coverage,

    /// <summary>A kernel symbol or module file named as a known rootkit's (rkhunter's lists): a lead, never proof on its own.</summary>
    KnownRootkitName,
}
