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

    /// <summary>
    /// Parameters merged from "parm" and "parmtype" entries, in the order kmod's modinfo prints
    /// them (it prepends each new name to a list, so the last name first seen comes first). The
    /// same for a module file's .modinfo and a built-in module's modules.builtin.modinfo records.
    /// </summary>
    public static IReadOnlyList<ModuleParameterInfo> FromModinfo(IEnumerable<ModInfoEntry> modinfo)
    {
        var order = new List<string>();
        var description = new Dictionary<string, string>(StringComparer.Ordinal);
        var type = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in modinfo)
        {
            if (e.Key is not ("parm" or "parmtype"))
                continue;
            var colon = e.Value.IndexOf(':');
            if (colon < 0)
                continue; // kmod reports 'Found invalid "parm=..."' and skips it
            var name = e.Value[..colon];
            if (!description.ContainsKey(name) && !type.ContainsKey(name))
                order.Add(name);
            (e.Key == "parm" ? description : type)[name] = e.Value[(colon + 1)..];
        }
        order.Reverse();
        return [.. order.Select(n => new ModuleParameterInfo(n, description.GetValueOrDefault(n), type.GetValueOrDefault(n)))];
    }
}

/// <summary>One "key=value" string of .modinfo, in file order.</summary>
public readonly record struct ModInfoEntry(string Key, string Value)
{
    public override string ToString() => $"{Key}={Value}";
}
