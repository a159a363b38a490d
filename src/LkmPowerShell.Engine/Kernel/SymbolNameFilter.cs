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
    public static SymbolNameFilter Any(IReadOnlyList<SymbolNameFilter> filters)
    {
        // An array, walked by index: a foreach over the interface allocated an enumerator for
        // every line of kallsyms (3.8 MB a search).
        var all = filters.ToArray();
        if (all.Length == 1)
            return all[0];
        return name =>
        {
            for (var i = 0; i < all.Length; i++)
                if (all[i](name)) return true;
            return false;
        };
    }

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
                if (c == '`' && i + 1 < pattern.Length) tokens.Add(new Token(Kind.Literal, Fold(pattern[++i]), null));
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
                else tokens.Add(new Token(Kind.Literal, Fold(c), null));
            }
            _tokens = tokens.ToArray();
            if (_tokens.All(t => t.Kind is Kind.Literal or Kind.Star))
                _segments = SplitSegments(_tokens);
        }

        // Patterns of literals and stars only (nearly all real ones: "fat_*", "*unix2dos*") are
        // matched segment by segment with the vectorised span searches instead of char by char.
        private readonly string[]? _segments;

        private static string[] SplitSegments(Token[] tokens)
        {
            var segments = new List<string>();
            var current = new System.Text.StringBuilder();
            foreach (var t in tokens)
            {
                if (t.Kind == Kind.Star) { segments.Add(current.ToString()); current.Clear(); }
                else current.Append(t.Char);
            }
            segments.Add(current.ToString());
            return segments.ToArray();   // n stars give n+1 segments; the first and last are anchored
        }

        private bool IsMatchSegments(ReadOnlySpan<char> text, string[] segments)
        {
            var cmp = _ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (segments.Length == 1) return text.Equals(segments[0], cmp);
            var first = segments[0];
            var last = segments[^1];
            if (text.Length < first.Length + last.Length) return false;
            if (!text.StartsWith(first, cmp) || !text.EndsWith(last, cmp)) return false;
            var middle = text[first.Length..^last.Length];
            for (var i = 1; i < segments.Length - 1; i++)
            {
                var at = middle.IndexOf(segments[i], cmp);
                if (at < 0) return false;
                middle = middle[(at + segments[i].Length)..];
            }
            return true;
        }

        public bool IsMatch(ReadOnlySpan<char> text)
        {
            if (_segments is not null) return IsMatchSegments(text, _segments);
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

        // The pattern's literals are folded once; a name's characters are folded here, with an
        // ASCII fast path because kernel symbol names are ASCII.
        private bool Same(char literal, char c) => literal == c || (_ignoreCase && literal == Fold(c));

        private char Fold(char c) => !_ignoreCase ? c : char.IsAscii(c) ? (char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c) : char.ToLowerInvariant(c);
    }
}
