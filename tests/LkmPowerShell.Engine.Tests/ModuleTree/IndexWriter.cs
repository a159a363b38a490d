using System.Buffers.Binary;
using System.Text;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Tests.ModuleTree;

/// <summary>
/// Test-only writer of kmod's .bin format, in either node order: post-order (kmod 30's depmod,
/// root last) or pre-order (kmod 34's, root first). Used to prove the reader takes both.
/// </summary>
internal static class IndexWriter
{
    private sealed class Node
    {
        public byte[] Prefix = [];
        public readonly SortedDictionary<byte, Node> Children = [];
        public readonly List<IndexValue> Values = [];
    }

    /// <param name="entries">Keys with values, each key's values in the order a reader returns them.</param>
    public static byte[] Write(IEnumerable<IndexEntry> entries, bool preOrder)
    {
        var byKey = entries.GroupBy(e => e.Key, StringComparer.Ordinal)
            .ToDictionary(g => Encoding.UTF8.GetBytes(g.Key), g => g.Select(e => new IndexValue(e.Value, e.Priority)).ToList());
        var keys = byKey.Keys.OrderBy(k => k, Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();
        var root = Build(keys, byKey, 0, isRoot: true);
        var output = new MemoryStream();
        output.Write(new byte[12]);
        var rootReference = preOrder ? WritePreOrder(root, output) : WritePostOrder(root, output);
        var bytes = output.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(bytes, IndexFile.Magic);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 0x00020001);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), rootReference);
        return bytes;
    }

    /// <summary>A radix tree as depmod builds it: an empty-prefix root, other nodes compressed.</summary>
    private static Node Build(List<byte[]> keys, Dictionary<byte[], List<IndexValue>> values, int depth, bool isRoot)
    {
        var node = new Node();
        if (!isRoot)
        {
            var common = keys[0].Length - depth;
            foreach (var key in keys) common = Math.Min(common, key.AsSpan(depth).CommonPrefixLength(keys[0].AsSpan(depth)));
            node.Prefix = keys[0][depth..(depth + common)];
            depth += common;
        }
        foreach (var key in keys.Where(k => k.Length == depth))
            node.Values.AddRange(DepmodListOrder(values[key]));
        foreach (var group in keys.Where(k => k.Length > depth).GroupBy(k => k[depth]))
            node.Children[group.Key] = Build([.. group], values, depth + 1, isRoot: false);
        return node;
    }

    /// <summary>
    /// The reader returns equal-priority values in the reverse of file order (kmod's add_value);
    /// reversing each equal-priority run again gives the order depmod stores them in.
    /// </summary>
    private static IEnumerable<IndexValue> DepmodListOrder(List<IndexValue> readerOrder) =>
        readerOrder.GroupBy(v => v.Priority).OrderBy(g => g.Key).SelectMany(g => g.Reverse());

    private static uint Flags(Node node) =>
        (node.Prefix.Length > 0 ? 0x80000000u : 0) | (node.Children.Count > 0 ? 0x20000000u : 0) | (node.Values.Count > 0 ? 0x40000000u : 0);

    private static uint WritePostOrder(Node node, MemoryStream output)
    {
        var childReferences = node.Children.ToDictionary(c => c.Key, c => WritePostOrder(c.Value, output));
        var offset = (uint)output.Position;
        WriteBody(node, output, childReferences);
        return offset | Flags(node);
    }

    private static uint WritePreOrder(Node node, MemoryStream output)
    {
        var offset = (uint)output.Position;
        var slots = WriteBody(node, output, null);
        foreach (var (ch, child) in node.Children)
        {
            var reference = WritePreOrder(child, output);
            var end = output.Position;
            output.Position = slots + (ch - node.Children.Keys.First()) * 4;
            output.Write(BigEndian(reference));
            output.Position = end;
        }
        return offset | Flags(node);
    }

    /// <summary>Writes prefix, child table and values; returns where the child table starts.</summary>
    private static long WriteBody(Node node, MemoryStream output, Dictionary<byte, uint>? childReferences)
    {
        if (node.Prefix.Length > 0)
        {
            output.Write(node.Prefix);
            output.WriteByte(0);
        }
        long slots = -1;
        if (node.Children.Count > 0)
        {
            var first = node.Children.Keys.First();
            var last = node.Children.Keys.Last();
            output.WriteByte(first);
            output.WriteByte(last);
            slots = output.Position;
            for (int ch = first; ch <= last; ch++)
                output.Write(BigEndian(childReferences is not null && childReferences.TryGetValue((byte)ch, out var r) ? r : 0));
        }
        if (node.Values.Count > 0)
        {
            output.Write(BigEndian((uint)node.Values.Count));
            foreach (var value in node.Values)
            {
                output.Write(BigEndian(value.Priority));
                output.Write(Encoding.UTF8.GetBytes(value.Value));
                output.WriteByte(0);
            }
        }
        return slots;
    }

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
