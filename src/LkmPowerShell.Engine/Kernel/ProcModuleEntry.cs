namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// One line of /proc/modules, as the kernel printed it (kernel/module/procfs.c, m_show):
/// <c>name size refcnt holders,|- state 0xaddress [(taints)]</c>.
/// </summary>
/// <param name="Name">The module's name (always with "_", as the kernel keeps it).</param>
/// <param name="Size">
/// The kernel's size figure. Since 6.4 it is the sum of every memory region (text, data, init...),
/// which is larger than /sys/module/X/coresize that lsmod prints.
/// </param>
/// <param name="ReferenceCount">Null when the kernel prints "-" (built without CONFIG_MODULE_UNLOAD).</param>
/// <param name="Holders">The modules that use this one; "-" in the file is an empty list.</param>
/// <param name="IsPermanent">
/// The holder list carried "[permanent]": the module has an init but no exit function, so it can
/// never be unloaded.
/// </param>
/// <param name="State">Live, Loading or Unloading.</param>
/// <param name="Address">
/// Start of the module's text; null when the kernel hid it (it prints 0 to readers that may not
/// see kernel addresses, see kptr_restrict).
/// </param>
/// <param name="Taints">The module's taint letters such as "OE", without the "(...)" and the +/- state marks; empty when none.</param>
public sealed record ProcModuleEntry(
    string Name,
    long Size,
    int? ReferenceCount,
    string[] Holders,
    bool IsPermanent,
    ModuleState State,
    ulong? Address,
    string Taints);
