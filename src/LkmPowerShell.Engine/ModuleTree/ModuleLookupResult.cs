namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>Which of the module tree's indexes answered a lookup, in the order modprobe asks them.</summary>
public enum ModuleLookupSource
{
    /// <summary>Nothing matched.</summary>
    None,
    /// <summary>The name of an installed module (modules.dep).</summary>
    ModuleName,
    /// <summary>A "symbol:NAME" request (modules.symbols).</summary>
    Symbol,
    /// <summary>An alias declared by installed modules (modules.alias, wildcards).</summary>
    Alias,
    /// <summary>The name of a module built into the kernel (modules.builtin).</summary>
    Builtin,
    /// <summary>An alias of a built-in module (modules.builtin.modinfo / modules.builtin.alias.bin).</summary>
    BuiltinAlias,
}

/// <summary>The modules a name or alias resolves to, in kmod's order (duplicates kept, as modprobe -R prints them).</summary>
public sealed record ModuleLookupResult(string Query, ModuleLookupSource Source, IReadOnlyList<string> Modules)
{
    public bool Found => Modules.Count > 0;

    public override string ToString() => Found ? $"{Query} -> {string.Join(", ", Modules)} ({Source})" : $"{Query}: not found";
}
