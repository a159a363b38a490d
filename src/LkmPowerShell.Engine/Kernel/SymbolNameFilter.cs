namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// Decides from a symbol's name, before anything is allocated for it, whether
/// <see cref="KallsymsReader"/> should produce the symbol. The span is only valid during the call.
/// </summary>
public delegate bool SymbolNameFilter(ReadOnlySpan<char> name);

/// <summary>Ready-made <see cref="SymbolNameFilter"/>s that allocate nothing per symbol.</summary>
public static class SymbolNameFilters
{
    /// <summary>Names equal to one of <paramref name="names"/> (ordinal: kernel symbols are case-sensitive).</summary>
    public static SymbolNameFilter Exact(IEnumerable<string> names)
    {
        var set = new HashSet<string>(names, StringComparer.Ordinal);
        var lookup = set.GetAlternateLookup<ReadOnlySpan<char>>();
        return name => lookup.Contains(name);
    }

    /// <summary>Names starting with <paramref name="prefix"/>.</summary>
    public static SymbolNameFilter Prefix(string prefix, bool ignoreCase = false)
    {
        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return name => name.StartsWith(prefix, comparison);
    }

    /// <summary>
    /// PowerShell-style wildcards: <c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[a-z]</c>, and a backtick
    /// escaping the next character; case-insensitive by default, as PowerShell's are.
    /// </summary>
    public static SymbolNameFilter Wildcard(string pattern, bool ignoreCase = true)
    {
        var glob = new Glob(pattern, ignoreCase);
        return glob.IsMatch;
    }

    /// <summary>Any of the filters.</summary>
    public static SymbolNameFilter Any(IReadOnlyList<SymbolNameFilter> filters) => name =>
    {
        foreach (var f in filters)
            if (f(name)) return true;
        return false;
    };

    /// <summary>A pattern compiled once into tokens, matched with the usual star-backtracking loop.</summary>
    private sealed class Glob
    {
        private enum Kind { Literal, AnyChar, Set, Star }

        private readonly record struct Token(Kind Kind, char Char, (char From, char To)[]? Ranges);

        private readonly Token[] _tokens;
        private readonly bool _ignoreCase;

        public Glob(string pattern, bool ignoreCase)
        {
            _ignoreCase = ignoreCase;
            var tokens = new List<Token>();
            for (var i = 0; i < pattern.Length; i++)
            {
                var c = pattern[i];
                if (c == '`' && i + 1 < pattern.Length) tokens.Add(new Token(Kind.Literal, pattern[++i], null));
                else if (c == '*') { if (tokens.Count == 0 || tokens[^1].Kind != Kind.Star) tokens.Add(new Token(Kind.Star, c, null)); }
                else if (c == '?') tokens.Add(new Token(Kind.AnyChar, c, null));
                else if (c == '[' && pattern.IndexOf(']', i + 1) is var close && close > i + 1)
                {
                    var ranges = new List<(char, char)>();
                    for (var j = i + 1; j < close; j++)
                    {
                        if (j + 2 < close && pattern[j + 1] == '-') { ranges.Add((pattern[j], pattern[j + 2])); j += 2; }
                        else ranges.Add((pattern[j], pattern[j]));
                    }
                    tokens.Add(new Token(Kind.Set, c, ranges.ToArray()));
                    i = close;
                }
                else tokens.Add(new Token(Kind.Literal, c, null));
            }
            _tokens = tokens.ToArray();
        }

        public bool IsMatch(ReadOnlySpan<char> text)
        {
            int t = 0, p = 0, starP = -1, starT = 0;
            while (t < text.Length)
            {
                if (p < _tokens.Length && _tokens[p].Kind == Kind.Star) { starP = p++; starT = t; continue; }
                if (p < _tokens.Length && Matches(_tokens[p], text[t])) { p++; t++; continue; }
                if (starP < 0) return false;
                p = starP + 1;
                t = ++starT;
            }
            while (p < _tokens.Length && _tokens[p].Kind == Kind.Star) p++;
            return p == _tokens.Length;
        }

        private bool Matches(in Token token, char c)
        {
            switch (token.Kind)
            {
                case Kind.AnyChar: return true;
                case Kind.Literal: return Same(token.Char, c);
                case Kind.Set:
                    foreach (var (from, to) in token.Ranges!)
                    {
                        if (c >= from && c <= to) return true;
                        if (_ignoreCase)
                        {
                            var u = char.ToUpperInvariant(c);
                            var l = char.ToLowerInvariant(c);
                            if ((u >= from && u <= to) || (l >= from && l <= to)) return true;
                        }
                    }
                    return false;
                default: return false;
            }
        }

        private bool Same(char a, char b) =>
            a == b || (_ignoreCase && char.ToUpperInvariant(a) == char.ToUpperInvariant(b));
    }
}
