using System.Buffers.Binary;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// Builds a .bin index (the format of kmod's libkmod-index.c) byte for byte as kmod's depmod does:
/// a radix trie whose root has an empty prefix and whose other nodes carry the longest common
/// prefix below them; values under a key in kmod's list order (ascending priority, a newcomer
/// before older values of the same priority); nodes written post-order (kmod 30) or pre-order
/// (kmod 34). kmod inserts keys one by one and splits nodes; the trie that results is the unique
/// compressed trie of the key set, which is what is built here directly from the sorted keys.
/// </summary>
internal sealed class IndexBuilder
{
    public const uint Magic = 0xB007F457;
    public const uint Version = 0x00020001;
    private const uint FlagPrefix = 0x80000000, FlagValues = 0x40000000, FlagChildren = 0x20000000;

    // Values as a class, not a tuple: a list of tuples is framework code a fresh process would JIT-compile (see ValueList).
    private sealed record IndexValue(string Value, uint Priority);

    private readonly Dictionary<string, List<IndexValue>> _values = new(StringComparer.Ordinal);

    /// <summary>kmod's index_insert: keys and values are byte strings.</summary>
    public void Add(string key, string value, uint priority)
    {
        if (!_values.TryGetValue(key, out var list))
            _values[key] = list = new List<IndexValue>(1);
        // index_add_value: before the first value whose priority is not lower.
        var at = 0;
        while (at < list.Count && list[at].Priority < priority) at++;
        list.Insert(at, new IndexValue(value, priority));
    }

    private sealed class Node
    {
        public string Prefix = "";
        public List<IndexValue>? Values;
        public byte First, Last;
        public Node?[]? Children; // indexed by character - First
        public int Size;          // bytes of this node alone
        public long Total;        // bytes of this node and everything below it
    }

    public byte[] Build(IndexLayout layout)
    {
        var keys = _values.Keys.ToArray();
        Array.Sort(keys, StringComparer.Ordinal);
        var root = new Node();
        if (keys.Length > 0)
            Fill(root, keys, 0, keys.Length, 0);
        Measure(root);
        var output = new byte[12 + root.Total];
        BinaryPrimitives.WriteUInt32BigEndian(output, Magic);
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(4), Version);
        var position = 12;
        var rootReference = layout == IndexLayout.PostOrder
            ? WritePostOrder(root, output, ref position)
            : WritePreOrder(root, output, 12);
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(8), rootReference);
        return output;
    }

    /// <summary>Fills <paramref name="node"/> with keys[lo..hi), whose first <paramref name="depth"/> chars lead to it.</summary>
    private void Fill(Node node, string[] keys, int lo, int hi, int depth)
    {
        // In a sorted range the first and last keys share exactly the prefix all keys share.
        if (node.Prefix.Length == 0 && depth > 0)
        {
            var first = keys[lo];
            var last = keys[hi - 1];
            var common = 0;
            var max = Math.Min(first.Length, last.Length) - depth;
            while (common < max && first[depth + common] == last[depth + common]) common++;
            node.Prefix = first.Substring(depth, common);
            depth += common;
        }
        if (keys[lo].Length == depth)
        {
            node.Values = _values[keys[lo]];
            lo++;
        }
        if (lo == hi)
            return;
        node.First = (byte)keys[lo][depth];
        node.Last = (byte)keys[hi - 1][depth];
        node.Children = new Node?[node.Last - node.First + 1];
        while (lo < hi)
        {
            var ch = keys[lo][depth];
            var end = lo + 1;
            while (end < hi && keys[end][depth] == ch) end++;
            var child = new Node();
            node.Children[(byte)ch - node.First] = child;
            Fill(child, keys, lo, end, depth + 1);
            lo = end;
        }
    }

    private static void Measure(Node node)
    {
        var size = node.Prefix.Length > 0 ? node.Prefix.Length + 1 : 0;
        if (node.Children is not null) size += 2 + 4 * node.Children.Length;
        if (node.Values is not null)
        {
            size += 4;
            foreach (var v in node.Values) size += 4 + v.Value.Length + 1;
        }
        node.Size = size;
        long total = size;
        if (node.Children is not null)
            foreach (var child in node.Children)
                if (child is not null) { Measure(child); total += child.Total; }
        node.Total = total;
    }

    private static uint Flags(Node node) =>
        (node.Prefix.Length > 0 ? FlagPrefix : 0) | (node.Children is not null ? FlagChildren : 0) | (node.Values is not null ? FlagValues : 0);

    /// <summary>kmod 30: the children (in character order), then the node; returns the node's reference.</summary>
    private static uint WritePostOrder(Node node, byte[] output, ref int position)
    {
        uint[]? childReferences = null;
        if (node.Children is not null)
        {
            childReferences = new uint[node.Children.Length];
            for (var i = 0; i < node.Children.Length; i++)
                if (node.Children[i] is { } child)
                    childReferences[i] = WritePostOrder(child, output, ref position);
        }
        var offset = position;
        WriteNode(node, output, offset, childReferences);
        position += node.Size;
        return (uint)offset | Flags(node);
    }

    /// <summary>kmod 34: the node, then its children; child offsets are known in advance from the subtree sizes.</summary>
    private static uint WritePreOrder(Node node, byte[] output, long offset)
    {
        uint[]? childReferences = null;
        if (node.Children is not null)
        {
            childReferences = new uint[node.Children.Length];
            var at = offset + node.Size;
            for (var i = 0; i < node.Children.Length; i++)
            {
                if (node.Children[i] is not { } child) continue;
                childReferences[i] = WritePreOrder(child, output, at);
                at += child.Total;
            }
        }
        WriteNode(node, output, (int)offset, childReferences);
        return (uint)offset | Flags(node);
    }

    private static void WriteNode(Node node, byte[] output, int at, uint[]? childReferences)
    {
        if (node.Prefix.Length > 0)
        {
            at += WriteString(node.Prefix, output, at);
        }
        if (node.Children is not null)
        {
            output[at++] = node.First;
            output[at++] = node.Last;
            foreach (var reference in childReferences!)
            {
                BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(at), reference);
                at += 4;
            }
        }
        if (node.Values is not null)
        {
            BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(at), (uint)node.Values.Count);
            at += 4;
            foreach (var (value, priority) in node.Values)
            {
                BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(at), priority);
                at += 4;
                at += WriteString(value, output, at);
            }
        }
    }

    /// <summary>A byte string and its NUL; returns the bytes written.</summary>
    private static int WriteString(string s, byte[] output, int at)
    {
        for (var i = 0; i < s.Length; i++)
            output[at + i] = (byte)s[i];
        output[at + s.Length] = 0;
        return s.Length + 1;
    }
}
