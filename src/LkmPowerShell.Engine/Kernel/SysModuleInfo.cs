namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// What /sys/module/&lt;name&gt;/ says about one module. Loaded modules have initstate, refcnt,
/// coresize, initsize, taint (and version/srcversion when the module declares them); built-in
/// modules only appear here when they have parameters or a version, and have no initstate.
/// Every attribute is null when its file is missing or unreadable.
/// </summary>
/// <param name="Name">The directory's name.</param>
/// <param name="IsBuiltin">No initstate file: part of the kernel image.</param>
/// <param name="State">From initstate; null for a built-in module (or when unreadable).</param>
/// <param name="ReferenceCount">refcnt.</param>
/// <param name="CoreSize">coresize: the size lsmod prints.</param>
/// <param name="InitSize">initsize.</param>
/// <param name="Holders">The names in holders/, in directory order, which is lsmod's order.</param>
/// <param name="Taint">The module's taint letters ("OE"); empty when untainted, null when absent.</param>
/// <param name="Version">version (MODULE_VERSION).</param>
/// <param name="SourceVersion">srcversion.</param>
/// <param name="Parameters">parameters/, sorted by name.</param>
public sealed record SysModuleInfo(
    string Name,
    bool IsBuiltin,
    ModuleState? State,
    int? ReferenceCount,
    long? CoreSize,
    long? InitSize,
    string? Taint,
    string? Version,
    string? SourceVersion,
    string[] Holders,
    IReadOnlyList<ModuleParameterValue> Parameters);
