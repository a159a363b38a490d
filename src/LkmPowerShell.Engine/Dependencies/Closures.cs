using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Dependencies;

/// <summary>
/// modules.dep's lines as sets, read once each. A line is a module's whole closure, so which
/// relations are one step is found by transitive reduction: M needs D directly when D is in M's
/// closure and in the closure of no other module of it. That is certain when it says "direct";
/// when it says "through X", the module may also use D itself (modinfo's depends lists what a
/// module uses directly, but reading it means opening, and on xz trees decompressing, each file).
/// </summary>
internal sealed class Closures(ModuleDirectory tree)
{
    private readonly Dictionary<string, HashSet<string>> _sets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<string>> _lines = new(StringComparer.Ordinal);

    /// <summary>The module's modules.dep line (depmod's order; modprobe loads the last first); empty when it has none.</summary>
    public IReadOnlyList<string> Of(string module)
    {
        if (!_lines.TryGetValue(module, out var line))
            _lines[module] = line = tree.DependencyNames(module) ?? [];
        return line;
    }

    public bool Contains(string module, string dependency)
    {
        if (!_sets.TryGetValue(module, out var set))
            _sets[module] = set = [.. Of(module)];
        return set.Contains(dependency);
    }

    /// <summary>Of <paramref name="candidates"/>, those that need <paramref name="dependency"/> directly (the reduction), in the candidates' order.</summary>
    public List<string> DirectNeeders(string dependency, IReadOnlyList<string> candidates)
    {
        var needers = candidates.Where(c => c != dependency && Contains(c, dependency)).ToList();
        return [.. needers.Where(n => !needers.Any(other => other != n && Contains(n, other)))];
    }
}
