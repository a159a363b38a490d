namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// kmod's hash table (shared/hash.c), reduced to what shows in depmod's output: the order in which
/// it iterates keys. Buckets in ascending order, keys inside a bucket by strcmp. Keys are "byte
/// strings": one char per byte (Latin-1), so ordinal comparison is strcmp.
/// </summary>
internal static class KmodHash
{
    /// <summary>
    /// Paul Hsieh's SuperFastHash as kmod has it: 16-bit reads are little-endian, and the two
    /// single-byte reads go through a (signed on x86) char, which matters for bytes over 0x7F.
    /// </summary>
    public static uint SuperFast(string key)
    {
        var len = key.Length;
        uint hash = (uint)len, tmp;
        var rem = len & 3;
        var i = 0;
        for (var n = len / 4; n > 0; n--, i += 4)
        {
            hash += U16(key, i);
            tmp = (U16(key, i + 2) << 11) ^ hash;
            hash = (hash << 16) ^ tmp;
            hash += hash >> 11;
        }
        switch (rem)
        {
            case 3:
                hash += U16(key, i);
                hash ^= hash << 16;
                hash ^= (uint)((sbyte)key[i + 2] << 18);
                hash += hash >> 11;
                break;
            case 2:
                hash += U16(key, i);
                hash ^= hash << 11;
                hash += hash >> 17;
                break;
            case 1:
                hash += (uint)(sbyte)key[i];
                hash ^= hash << 10;
                hash += hash >> 1;
                break;
        }
        hash ^= hash << 3;
        hash += hash >> 5;
        hash ^= hash << 4;
        hash += hash >> 17;
        hash ^= hash << 25;
        hash += hash >> 6;
        return hash;
    }

    private static uint U16(string s, int i) => (uint)((byte)s[i] | ((byte)s[i + 1] << 8));

    /// <summary>
    /// <paramref name="items"/> in the order kmod's hash_iter visits them in a table of
    /// <paramref name="buckets"/> (a power of two). Keys must be distinct.
    /// </summary>
    public static List<T> IterationOrder<T>(IEnumerable<T> items, Func<T, string> key, int buckets)
    {
        var mask = (uint)(buckets - 1);
        var list = items.Select(item => (Bucket: SuperFast(key(item)) & mask, Key: key(item), Item: item)).ToList();
        list.Sort((a, b) => a.Bucket != b.Bucket ? a.Bucket.CompareTo(b.Bucket) : string.CompareOrdinal(a.Key, b.Key));
        return list.ConvertAll(x => x.Item);
    }
}
