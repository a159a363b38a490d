namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// glibc's <c>fnmatch(pattern, text, 0)</c>, the matcher kmod applies to alias patterns: <c>*</c>,
/// <c>?</c>, bracket expressions (ranges, <c>!</c> or <c>^</c> negation, <c>[:class:]</c>) and
/// backslash escapes. With flags 0 there is no special treatment of <c>/</c> or a leading dot.
/// </summary>
/// <remarks>
/// Every token other than <c>*</c> matches exactly one character, so remembering only the last
/// star is enough: the match runs in O(pattern × text) time however hostile the pattern is.
/// </remarks>
internal static class FnMatch
{
    public static bool IsMatch(string pattern, string text)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(text);
        return IsMatch(pattern.AsSpan(), text.AsSpan());
    }

    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0;
        int starPattern = -1, starText = -1;
        while (t < text.Length)
        {
            if (p < pattern.Length)
            {
                var c = pattern[p];
                if (c == '*')
                {
                    while (p < pattern.Length && pattern[p] == '*') p++;
                    starPattern = p;
                    starText = t;
                    continue;
                }
                if (c == '?')
                {
                    p++;
                    t++;
                    continue;
                }
                if (c == '[')
                {
                    switch (MatchBracket(pattern, p, text[t], out var next))
                    {
                        case Bracket.Match:
                            p = next;
                            t++;
                            continue;
                        case Bracket.NoMatch:
                            goto Backtrack;
                        case Bracket.Invalid:
                            return false;
                        // Bracket.Literal: an unterminated "[" is an ordinary character.
                    }
                }
                var width = 1;
                if (c == '\\')
                {
                    // glibc: "Trailing \ loses" - the whole match fails, not just this branch.
                    if (p + 1 >= pattern.Length) return false;
                    c = pattern[p + 1];
                    width = 2;
                }
                if (c == text[t])
                {
                    p += width;
                    t++;
                    continue;
                }
            }
        Backtrack:
            if (starPattern < 0) return false;
            p = starPattern;
            t = ++starText;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    private enum Bracket { Match, NoMatch, Literal, Invalid }

    /// <summary>Matches <paramref name="ch"/> against the bracket expression opening at <paramref name="open"/>.</summary>
    private static Bracket MatchBracket(ReadOnlySpan<char> pattern, int open, char ch, out int next)
    {
        next = open + 1;
        var i = open + 1;
        var negate = i < pattern.Length && (pattern[i] == '!' || pattern[i] == '^');
        if (negate) i++;
        var matched = false;
        var first = true;
        while (true)
        {
            if (i >= pattern.Length) return Bracket.Literal;
            var c = pattern[i];
            if (c == ']' && !first) break;
            first = false;
            if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
            {
                var end = pattern[(i + 2)..].IndexOf(":]");
                if (end < 0) return Bracket.Literal;
                var name = pattern.Slice(i + 2, end);
                if (!TryClass(name, ch, out var inClass)) return Bracket.Invalid;
                matched |= inClass;
                i += 2 + end + 2;
                continue;
            }
            if (c == '\\')
            {
                if (i + 1 >= pattern.Length) return Bracket.Literal;
                c = pattern[++i];
            }
            i++;
            var low = c;
            var high = c;
            // "a-z" is a range; a "-" right before the closing "]" is an ordinary character.
            if (i + 1 < pattern.Length && pattern[i] == '-' && pattern[i + 1] != ']')
            {
                high = pattern[i + 1];
                i += 2;
                if (high == '\\')
                {
                    if (i >= pattern.Length) return Bracket.Literal;
                    high = pattern[i++];
                }
                else if (high == '[' && i < pattern.Length && pattern[i] == ':')
                {
                    return Bracket.Invalid; // a class cannot end a range
                }
            }
            if (low <= ch && ch <= high) matched = true;
        }
        next = i + 1;
        return matched != negate ? Bracket.Match : Bracket.NoMatch;
    }

    private static bool TryClass(ReadOnlySpan<char> name, char c, out bool inClass)
    {
        // The "C" locale's classes: kmod's keys and values are 7-bit ASCII.
        switch (name)
        {
            case "alnum": inClass = char.IsAsciiLetterOrDigit(c); return true;
            case "alpha": inClass = char.IsAsciiLetter(c); return true;
            case "blank": inClass = c is ' ' or '\t'; return true;
            case "cntrl": inClass = c < 0x20 || c == 0x7F; return true;
            case "digit": inClass = char.IsAsciiDigit(c); return true;
            case "graph": inClass = c > 0x20 && c < 0x7F; return true;
            case "lower": inClass = char.IsAsciiLetterLower(c); return true;
            case "print": inClass = c >= 0x20 && c < 0x7F; return true;
            case "punct": inClass = c > 0x20 && c < 0x7F && !char.IsAsciiLetterOrDigit(c); return true;
            case "space": inClass = c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r'; return true;
            case "upper": inClass = char.IsAsciiLetterUpper(c); return true;
            case "xdigit": inClass = char.IsAsciiHexDigit(c); return true;
            default: inClass = false; return false; // glibc: an unknown class makes the pattern invalid
        }
    }
}
