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
        var list = items as IReadOnlyList<T> ?? [.. items];
        var keys = new string[list.Count];
        for (var i = 0; i < keys.Length; i++)
            keys[i] = key(list[i]);
        var order = IterationOrder(keys, buckets);
        var result = new List<T>(order.Length);
        foreach (var i in order)
            result.Add(list[i]);
        return result;
    }

    /// <summary>
    /// The indexes of <paramref name="keys"/> in kmod's hash_iter order: one pass that counts each
    /// bucket's keys and places them (a counting sort), then each bucket's few keys sorted by
    /// strcmp. Linear where one comparison sort over all keys was n log n, and without delegates.
    /// </summary>
    public static int[] IterationOrder(string[] keys, int buckets)
    {
        var mask = (uint)(buckets - 1);
        var bucketOf = new int[keys.Length];
        var start = new int[buckets + 1];
        for (var i = 0; i < keys.Length; i++)
        {
            var b = (int)(SuperFast(keys[i]) & mask);
            bucketOf[i] = b;
            start[b + 1]++;
        }
        for (var b = 0; b < buckets; b++)
            start[b + 1] += start[b];
        var order = new int[keys.Length];
        var next = (int[])start.Clone();
        for (var i = 0; i < keys.Length; i++)
            order[next[bucketOf[i]]++] = i;
        // Buckets hold a handful of keys each: insertion sort, by strcmp (ordinal on byte strings);
        // a crowded bucket (keys made to collide) gets a comparison sort instead.
        for (var b = 0; b < buckets; b++)
        {
            if (start[b + 1] - start[b] > 32)
            {
                Array.Sort(order, start[b], start[b + 1] - start[b], new ByKey(keys));
                continue;
            }
            for (var j = start[b] + 1; j < start[b + 1]; j++)
            {
                var item = order[j];
                var k = j - 1;
                while (k >= start[b] && string.CompareOrdinal(keys[order[k]], keys[item]) > 0)
                {
                    order[k + 1] = order[k];
                    k--;
                }
                order[k + 1] = item;
            }
        }
        return order;
    }

    private sealed class ByKey(string[] keys) : IComparer<int>
    {
        public int Compare(int x, int y) => string.CompareOrdinal(keys[x], keys[y]);
    }
}
