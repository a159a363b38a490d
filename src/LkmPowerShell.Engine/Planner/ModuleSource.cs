namespace LkmPowerShell.Engine.Planner;

/// <summary>Where a name was resolved, in the order modprobe asks (kmod_module_new_from_lookup).</summary>
public enum ModuleSource
{
    /// <summary>Nothing matched.</summary>
    None,
    /// <summary>An <c>alias</c> line in modprobe.d (fnmatch pattern).</summary>
    ConfigAlias,
    /// <summary>The name of an installed module (modules.dep).</summary>
    ModuleName,
    /// <summary>A <c>symbol:NAME</c> request answered by modules.symbols.</summary>
    Symbol,
    /// <summary>A name with an <c>install</c> command in modprobe.d (exact name).</summary>
    InstallCommand,
    /// <summary>A name with a <c>remove</c> command in modprobe.d (exact name).</summary>
    RemoveCommand,
    /// <summary>An alias declared by installed modules (modules.alias, wildcards, every match).</summary>
    Alias,
    /// <summary>A module built into the kernel (modules.builtin).</summary>
    Builtin,
    /// <summary>An alias of a built-in module (modules.builtin.alias.bin).</summary>
    BuiltinAlias,
    /// <summary>A module file given by path (insmod); no lookup.</summary>
    Path,
}

/// <summary>
/// One module a name resolved to. <paramref name="Alias"/> is what kmod keeps as the module's
/// alias (the config alias pattern, or the normalised query for index aliases and symbols): options
/// given for that alias apply to the module too.
/// </summary>
public sealed record ResolvedModule(string Name, string? Alias, ModuleSource Source, ConfigLocation? ConfigSource = null, ConfigCommand? Command = null)
{
    /// <summary>Known to be built into the kernel because the built-in indexes answered.</summary>
    public bool IsBuiltin => Source is ModuleSource.Builtin or ModuleSource.BuiltinAlias;

    public override string ToString() => Alias is null ? $"{Name} ({Source})" : $"{Name} ({Source} {Alias})";
}

/// <summary>What a name resolved to: every module of the first source that answered, in kmod's order.</summary>
public sealed record ModuleResolution(string Query, ModuleSource Source, IReadOnlyList<ResolvedModule> Modules)
{
    public bool Found => Modules.Count > 0;

    public override string ToString() =>
        Found ? $"{Query} -> {string.Join(", ", Modules.Select(m => m.Name))} ({Source})" : $"{Query}: not found";
}
