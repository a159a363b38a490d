namespace LkmPowerShell.Completion;

/// <summary>
/// Sorted name lists for tab completion, kept per source file while the file is unchanged (same
/// length and write time), so a second Tab on 120,000 kallsyms names costs a binary search, not a
/// re-read. A handful of sources at most: completion runs against one or two roots at a time.
/// </summary>
internal static class CompletionCache
{
    private const int MaxEntries = 8;
    private static readonly Dictionary<string, (string Stamp, string[] Names)> Entries = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    /// <summary>
    /// The names <paramref name="read"/> returns, sorted ordinally, reused while <paramref name="stamp"/>
    /// (what identifies the source's current content) is the same as last time.
    /// </summary>
    public static string[] Names(string key, string stamp, Func<IEnumerable<string>> read)
    {
        lock (Gate)
        {
            if (Entries.TryGetValue(key, out var e) && e.Stamp == stamp)
                return e.Names;
        }
        var names = read().Distinct(StringComparer.Ordinal).ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        lock (Gate)
        {
            if (Entries.Count >= MaxEntries) Entries.Clear();
            Entries[key] = (stamp, names);
        }
        return names;
    }

    /// <summary>A stamp for a regular file: its length and last write time; "" when it is missing.</summary>
    public static string FileStamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? $"{info.Length}:{info.LastWriteTimeUtc.Ticks}" : "";
    }

    /// <summary>The names that start with <paramref name="prefix"/> (ordinal), at most <paramref name="limit"/>, found by binary search.</summary>
    public static IEnumerable<string> WithPrefix(string[] sorted, string prefix, int limit)
    {
        var i = Array.BinarySearch(sorted, prefix, StringComparer.Ordinal);
        if (i < 0) i = ~i;
        for (var n = 0; i < sorted.Length && n < limit && sorted[i].StartsWith(prefix, StringComparison.Ordinal); i++, n++)
            yield return sorted[i];
    }
}
