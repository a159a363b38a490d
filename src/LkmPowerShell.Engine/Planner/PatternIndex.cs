using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Planner;

/// <summary>
/// Configuration entries keyed by a module pattern (fnmatch, as kmod matches them), found without
/// trying every pattern: a plain name is a dictionary lookup, and only patterns with a wildcard
/// are matched one by one. The answers are those of a scan in file order; a planner asks once per
/// module it visits, so a scan would make a long configuration cost its length squared.
/// </summary>
internal sealed class PatternIndex<T>
{
    private readonly IReadOnlyList<T> _entries;
    private readonly Func<T, string> _pattern;
    private readonly Dictionary<string, List<int>> _byText = new(StringComparer.Ordinal);
    private readonly List<int> _wild = [];

    public PatternIndex(IReadOnlyList<T> entries, Func<T, string> pattern)
    {
        _entries = entries;
        _pattern = pattern;
        for (var i = 0; i < entries.Count; i++)
        {
            var p = pattern(entries[i]);
            if (IsWild(p)) _wild.Add(i);
            if (_byText.TryGetValue(p, out var list)) list.Add(i);
            else _byText[p] = [i];
        }
    }

    private static bool IsWild(string pattern) => pattern.AsSpan().IndexOfAny("*?[\\") >= 0;

    /// <summary>The entries whose pattern has no wildcard and is <paramref name="name"/>, in file order.</summary>
    private List<int>? Plain(string name) => IsWild(name) ? null : _byText.GetValueOrDefault(name);

    /// <summary>Every entry whose pattern matches <paramref name="name"/> (fnmatch), in file order.</summary>
    public IEnumerable<T> Matching(string name)
    {
        var plain = Plain(name);
        if (_wild.Count == 0)
            return plain is null ? [] : plain.Select(i => _entries[i]);
        var wild = _wild.Where(i => FnMatch.IsMatch(_pattern(_entries[i]), name));
        return (plain is null ? wild : plain.Concat(wild).Order()).Select(i => _entries[i]);
    }

    /// <summary>The first entry whose pattern matches <paramref name="name"/> (fnmatch), or default.</summary>
    public T? First(string name)
    {
        var best = Plain(name) is { } plain ? plain[0] : int.MaxValue;
        foreach (var i in _wild)
        {
            if (i >= best) break;
            if (FnMatch.IsMatch(_pattern(_entries[i]), name)) { best = i; break; }
        }
        return best == int.MaxValue ? default : _entries[best];
    }

    /// <summary>Every entry whose pattern is <paramref name="text"/> compared as text, not matched, in file order.</summary>
    public IEnumerable<T> Named(string text) => _byText.TryGetValue(text, out var list) ? list.Select(i => _entries[i]) : [];
}
