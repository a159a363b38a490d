using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Planner;

/// <summary>One module that a name modinfo was given resolved to, with the alias pattern it matched.</summary>
/// <param name="Module">The module's name.</param>
/// <param name="MatchedAlias">The pattern the name matched, as declared (a module's alias, a modprobe.d alias, "symbol:NAME"); null for a built-in found by name.</param>
/// <param name="Installed">The installed file, or null for a module built into the kernel.</param>
public sealed record ModinfoMatch(string Module, string? MatchedAlias, InstalledModule? Installed);

/// <summary>
/// What kmod's modinfo shows for a name that is not an installed module's own: it looks the name
/// up as modprobe does (modprobe.d alias, modules.symbols, modules.alias with wildcards, built-in
/// aliases) and shows every module found. "fs-msdos" gives msdos; a PCI modalias gives every
/// driver whose pattern matches it, in kmod's order.
/// </summary>
public static class ModinfoLookup
{
    /// <summary>The modules <paramref name="name"/> resolves to; empty when it names none (or names only a modprobe.d command).</summary>
    public static IReadOnlyList<ModinfoMatch> Resolve(ModuleResolver resolver, string name)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(name);
        ModuleResolution resolution;
        try
        {
            resolution = resolver.Resolve(name);
        }
        catch (InvalidModuleNameException)
        {
            return [];
        }
        var tree = resolver.Tree;
        var query = ModuleName.NormalizeAlias(name);
        var result = new List<ModinfoMatch>();
        foreach (var m in resolution.Modules)
        {
            switch (m.Source)
            {
                case ModuleSource.InstallCommand or ModuleSource.RemoveCommand or ModuleSource.None:
                    continue; // a command, not a module: modinfo has nothing to show for it
                case ModuleSource.Builtin or ModuleSource.BuiltinAlias:
                    result.Add(new(m.Name, m.Source == ModuleSource.Builtin ? null : DeclaredPattern(BuiltinAliases(tree, m.Name), query) ?? m.Alias, null));
                    continue;
            }
            // A config alias may name a module built in, or none at all.
            var installed = tree.FindModule(m.Name);
            if (installed is null && !tree.IsBuiltin(m.Name))
                continue;
            var alias = m.Source == ModuleSource.Alias
                ? DeclaredPattern(tree.AliasesAsWritten()?.Where(a => a.Module == m.Name).Select(a => a.Pattern), query) ?? m.Alias
                : m.Alias;
            if (result.All(r => r.Module != m.Name))
                result.Add(new(m.Name, alias, installed));
        }
        return result;
    }

    private static IEnumerable<string> BuiltinAliases(ModuleDirectory tree, string module) =>
        tree.BuiltinModinfo().Where(f => f.Key == "alias" && ModuleName.Normalize(f.Module) == module).Select(f => f.Value);

    /// <summary>The first of a module's declared patterns that matches the query (as kmod matches: normalised, fnmatch).</summary>
    private static string? DeclaredPattern(IEnumerable<string>? patterns, string query) =>
        patterns?.FirstOrDefault(p => FnMatch.IsMatch(ModuleName.NormalizeAlias(p), query));
}
