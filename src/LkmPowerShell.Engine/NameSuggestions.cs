namespace LkmPowerShell.Engine;

/// <summary>
/// "Did you mean": the known names nearest to a misspelt one, by optimal string alignment
/// distance (Damerau-Levenshtein where a transposition is one edit: msdso -> msdos). Meant for the
/// error path only. The cost stays bounded on 120,000 kallsyms names: names whose length differs by
/// more than the allowed distance are skipped without comparing, and a comparison stops as soon as
/// a whole row of the matrix exceeds it.
/// </summary>
/// <remarks>
/// Written here rather than taken from a library (F23.StringSimilarity has a Damerau distance):
/// the engine has no third-party dependency, so nothing needs a private load context, and the
/// libraries compute the full matrix for every candidate, without the cut-off that keeps this cheap.
/// </remarks>
public static class NameSuggestions
{
    /// <summary>
    /// Up to <paramref name="max"/> candidates within the allowed distance of
    /// <paramref name="wanted"/> (1 edit for names up to 4 characters, 2 up to 8, else 3), nearest
    /// first, ties in ordinal order; never <paramref name="wanted"/> itself.
    /// </summary>
    public static IReadOnlyList<string> Nearest(string wanted, IEnumerable<string> candidates, int max = 3)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        ArgumentNullException.ThrowIfNull(candidates);
        var limit = AllowedDistance(wanted.Length);
        var found = new List<(string Name, int Distance)>();
        foreach (var candidate in candidates)
        {
            if (candidate is null || Math.Abs(candidate.Length - wanted.Length) > limit)
                continue;
            var d = Distance(wanted, candidate, limit);
            if (d > 0 && d <= limit)
                found.Add((candidate, d));
        }
        return [.. found.OrderBy(f => f.Distance).ThenBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => f.Name).Distinct(StringComparer.Ordinal).Take(max)];
    }

    /// <summary>How many edits still count as a misspelling of a name of that length.</summary>
    public static int AllowedDistance(int length) => length <= 4 ? 1 : length <= 8 ? 2 : 3;

    /// <summary>
    /// The optimal string alignment distance between <paramref name="a"/> and <paramref name="b"/>,
    /// or <paramref name="limit"/> + 1 as soon as it is known to exceed <paramref name="limit"/>.
    /// </summary>
    public static int Distance(ReadOnlySpan<char> a, ReadOnlySpan<char> b, int limit)
    {
        if (Math.Abs(a.Length - b.Length) > limit)
            return limit + 1;
        var width = b.Length + 1;
        Span<int> rows = width * 3 <= 768 ? stackalloc int[width * 3] : new int[width * 3];
        var beforePrevious = rows[..width];
        var previous = rows.Slice(width, width);
        var current = rows.Slice(2 * width, width);
        for (var j = 0; j < width; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var rowMin = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var value = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    value = Math.Min(value, beforePrevious[j - 2] + 1);
                current[j] = value;
                rowMin = Math.Min(rowMin, value);
            }
            if (rowMin > limit)
                return limit + 1;
            var recycled = beforePrevious;
            beforePrevious = previous;
            previous = current;
            current = recycled;
        }
        return Math.Min(previous[b.Length], limit + 1);
    }
}
