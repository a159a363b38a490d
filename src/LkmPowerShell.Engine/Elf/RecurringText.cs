using System.Collections.Concurrent;

namespace LkmPowerShell.Engine.Elf;

/// <summary>
/// Strings every module repeats (section names, .modinfo keys, a tree's vermagic): made once and
/// shared, so reading a whole tree does not make ".text" or "vermagic" four thousand times (a
/// sixth of what reading a module allocated). Bounded: once a few thousand distinct strings are
/// known (a hostile file's names, say), further ones are made afresh each time and not kept.
/// </summary>
internal static class RecurringText
{
    private const int MaxEntries = 4096;
    private const int MaxLength = 80;

    private static readonly ConcurrentDictionary<string, string> Known = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars =
        Known.GetAlternateLookup<ReadOnlySpan<char>>();
    private static int _count;

    /// <summary>The Latin-1 string of these bytes (as <see cref="ElfImage.Latin1"/> makes it), shared when it recurs.</summary>
    public static string Latin1(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
            return "";
        if (bytes.Length > MaxLength)
            return ElfImage.Latin1(bytes);
        Span<char> chars = stackalloc char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
            chars[i] = (char)bytes[i]; // Latin-1: each byte is the char of the same value
        if (ByChars.TryGetValue(chars, out var known))
            return known;
        var text = new string(chars);
        if (Volatile.Read(ref _count) < MaxEntries && Known.TryAdd(text, text))
            Interlocked.Increment(ref _count);
        return text;
    }
}
