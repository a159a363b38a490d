using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Planner;

/// <summary>
/// Turns a name, alias or <c>symbol:NAME</c> into modules, asking the sources in kmod's order
/// (kmod_module_new_from_lookup) and stopping at the first that answers: modprobe.d alias
/// (fnmatch) → modules.dep → modules.symbols (only "symbol:" names) → install/remove command names
/// → modules.alias (wildcards, every match) → modules.builtin → built-in aliases. "-" and "_" are
/// the same. Blacklists are not applied here: that is the planner's decision.
/// </summary>
public sealed class ModuleResolver
{
    public ModuleResolver(ModuleDirectory tree, ModprobeConfig config)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(config);
        Tree = tree;
        Config = config;
    }

    public ModuleDirectory Tree { get; }
    public ModprobeConfig Config { get; }

    /// <exception cref="InvalidModuleNameException">A path, "..", or an empty name.</exception>
    public ModuleResolution Resolve(string nameOrAlias)
    {
        ModuleName.Validate(nameOrAlias);
        var name = ModuleName.NormalizeAlias(nameOrAlias);

        var fromConfig = Config.AliasesMatching(name).Select(a => new ResolvedModule(a.Module, a.Pattern, ModuleSource.ConfigAlias, a.Source)).ToList();
        if (fromConfig.Count > 0) return new(nameOrAlias, ModuleSource.ConfigAlias, fromConfig);

        // Module names never contain ':' (kmod skips modules.dep for them).
        if (!name.Contains(':') && Tree.FindModule(name) is { } module)
            return new(nameOrAlias, ModuleSource.ModuleName, [new ResolvedModule(module.Name, null, ModuleSource.ModuleName)]);

        if (name.StartsWith("symbol:", StringComparison.Ordinal) && Tree.FindSymbolProviders(name) is { Count: > 0 } providers)
            return new(nameOrAlias, ModuleSource.Symbol, [.. providers.Select(p => new ResolvedModule(p, name, ModuleSource.Symbol))]);

        if (Config.InstallCommandNamed(name) is { } install)
            return new(nameOrAlias, ModuleSource.InstallCommand, [new ResolvedModule(name, null, ModuleSource.InstallCommand, install.Source, install)]);
        if (Config.RemoveCommandNamed(name) is { } remove)
            return new(nameOrAlias, ModuleSource.RemoveCommand, [new ResolvedModule(name, null, ModuleSource.RemoveCommand, remove.Source, remove)]);

        if (Tree.ResolveAlias(name) is { Count: > 0 } aliased)
            return new(nameOrAlias, ModuleSource.Alias, [.. aliased.Select(m => new ResolvedModule(m, name, ModuleSource.Alias))]);

        if (Tree.IsBuiltin(name))
            return new(nameOrAlias, ModuleSource.Builtin, [new ResolvedModule(name, null, ModuleSource.Builtin)]);

        if (Tree.ResolveBuiltinAlias(name) is { Count: > 0 } builtins)
            return new(nameOrAlias, ModuleSource.BuiltinAlias, [.. builtins.Select(m => new ResolvedModule(m, name, ModuleSource.BuiltinAlias))]);

        return new(nameOrAlias, ModuleSource.None, []);
    }

    /// <summary>Like <see cref="Resolve"/>, but a miss is a <see cref="ModuleNotFoundException"/> that says where it looked.</summary>
    public ModuleResolution ResolveOrThrow(string nameOrAlias)
    {
        var result = Resolve(nameOrAlias);
        if (!result.Found) throw new ModuleNotFoundException(nameOrAlias, Tree.KernelVersion, Tree.Path);
        return result;
    }
}
