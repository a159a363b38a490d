namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>How a symbol is bound, as kmod reports it.</summary>
public enum SymbolBinding
{
    None,
    Local,
    Global,
    Weak,
    Undefined,
}

/// <summary>
/// A symbol a module exports. <see cref="Crc"/> is the modversions CRC, or null when the module
/// carries none (kmod then falls back to the names in __ksymtab_strings) or the CRC's location is
/// invalid (kmod prints such a CRC as 0xffffffffffffffff).
/// </summary>
public sealed record ExportedSymbol(string Name, ulong? Crc, SymbolBinding Binding)
{
    public override string ToString() => Name;
}

/// <summary>
/// A symbol a module needs from the kernel or another module: an undefined .symtab symbol, with its
/// CRC from __versions when present; or a __versions entry no undefined symbol names (such as
/// module_layout), which kmod also counts.
/// </summary>
public sealed record RequiredSymbol(string Name, ulong? Crc, bool IsWeak)
{
    public override string ToString() => Name;
}

/// <summary>One __versions entry: the CRC the module was built against for a symbol.</summary>
public sealed record SymbolVersion(string Name, ulong Crc);

/// <summary>A module parameter from .modinfo "parm" (description) and "parmtype" (type) entries.</summary>
public sealed record ModuleParameterInfo(string Name, string? Description, string? Type)
{
    /// <summary>The text modinfo prints after "parm:", e.g. "numdummies:Number of dummy pseudo devices (int)".</summary>
    public override string ToString() =>
        Description is null ? $"{Name}: ({Type})"
        : Type is null ? $"{Name}:{Description}"
        : $"{Name}:{Description} ({Type})";
}

/// <summary>One "key=value" string of .modinfo, in file order.</summary>
public readonly record struct ModInfoEntry(string Key, string Value)
{
    public override string ToString() => $"{Key}={Value}";
}
