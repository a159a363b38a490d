namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// A module in the running kernel: its /proc/modules line joined with /sys/module/&lt;name&gt;/,
/// taking each figure from where lsmod takes it so that a table of these equals lsmod.
/// Built-in modules (<see cref="IsBuiltin"/>) only have a name, a version and parameters.
/// </summary>
/// <param name="Name">The module's name, with "_" as the kernel keeps it.</param>
/// <param name="Size">
/// lsmod's size: /sys/module/X/coresize, or the /proc/modules figure when sysfs has none.
/// Null for a built-in module.
/// </param>
/// <param name="ReferenceCount">
/// lsmod's "Used by" count: /sys/module/X/refcnt, else the /proc/modules figure. Null for a
/// built-in module and on kernels without module unloading.
/// </param>
/// <param name="UsedBy">lsmod's holder names: /sys/module/X/holders/, in its order.</param>
/// <param name="State">From /proc/modules: Live, Loading or Unloading; Builtin for a built-in module.</param>
/// <param name="Address">Start of the module's text; null when the kernel hides addresses from this reader, and for built-ins.</param>
/// <param name="Taints">The module's taint letters ("OE"); empty when none.</param>
/// <param name="Version">/sys/module/X/version (MODULE_VERSION), null when the module has none.</param>
/// <param name="SourceVersion">/sys/module/X/srcversion, null when absent.</param>
/// <param name="Parameters">Readable parameters, name to current value.</param>
/// <param name="UnreadableParameters">Parameters whose value cannot be read (write-only, root-only, or a failing getter).</param>
/// <param name="InitSize">/sys/module/X/initsize: the init sections' size (0 once init has run and freed them).</param>
/// <param name="TotalSize">The /proc/modules size (since 6.4 every region of the module, not just core).</param>
/// <param name="IsPermanent">/proc/modules says "[permanent]": the module has no exit function and cannot be unloaded.</param>
/// <param name="IsBuiltin">Built into the kernel image: listed only with -IncludeBuiltin, never by lsmod.</param>
public sealed record LoadedModule(
    string Name,
    long? Size,
    int? ReferenceCount,
    string[] UsedBy,
    ModuleState State,
    ulong? Address,
    string Taints,
    string? Version,
    string? SourceVersion,
    IReadOnlyDictionary<string, string> Parameters,
    string[] UnreadableParameters,
    long? InitSize,
    long? TotalSize,
    bool IsPermanent,
    bool IsBuiltin)
{
    /// <summary>The address as the kernel prints it ("0xffffffffc0a00000"); null when unknown.</summary>
    public string? AddressHex => Address is { } a ? $"0x{a:x16}" : null;

    /// <summary>Joins a /proc/modules line with what sysfs says (null when the module's sysfs directory vanished).</summary>
    public static LoadedModule FromKernel(ProcModuleEntry proc, SysModuleInfo? sys)
    {
        ArgumentNullException.ThrowIfNull(proc);
        var (parameters, unreadable) = SplitParameters(sys?.Parameters ?? []);
        return new LoadedModule(
            Name: proc.Name,
            Size: sys?.CoreSize ?? proc.Size,
            ReferenceCount: sys?.ReferenceCount ?? proc.ReferenceCount,
            UsedBy: sys?.Holders ?? proc.Holders,
            State: proc.State,
            Address: proc.Address,
            Taints: sys?.Taint ?? proc.Taints,
            Version: sys?.Version,
            SourceVersion: sys?.SourceVersion,
            Parameters: parameters,
            UnreadableParameters: unreadable,
            InitSize: sys?.InitSize,
            TotalSize: proc.Size,
            IsPermanent: proc.IsPermanent,
            IsBuiltin: false);
    }

    /// <summary>A built-in module, from its /sys/module directory.</summary>
    public static LoadedModule FromBuiltin(SysModuleInfo sys)
    {
        ArgumentNullException.ThrowIfNull(sys);
        var (parameters, unreadable) = SplitParameters(sys.Parameters);
        return new LoadedModule(sys.Name, null, null, [], ModuleState.Builtin, null, "", sys.Version, sys.SourceVersion,
            parameters, unreadable, null, null, IsPermanent: true, IsBuiltin: true);
    }

    public override string ToString() => Name;

    private static (IReadOnlyDictionary<string, string>, string[]) SplitParameters(IReadOnlyList<ModuleParameterValue> all)
    {
        var readable = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var unreadable = new List<string>();
        foreach (var p in all)
        {
            if (p.Value is { } v) readable[p.Name] = v;
            else unreadable.Add(p.Name);
        }
        return (readable, unreadable.ToArray());
    }
}
