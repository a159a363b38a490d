using System.Text;

namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// A depmod .bin index (modules.dep.bin, modules.alias.bin, modules.symbols.bin,
/// modules.builtin.bin, modules.builtin.alias.bin): a trie of big-endian nodes, the format of
/// kmod's libkmod-index.c. It follows offsets, so kmod 30's post-order files (root last) and
/// kmod 34's pre-order files (root first) read alike.
/// </summary>
/// <remarks>
/// The whole file is read into memory and every offset, count and string is checked against its
/// size before use, so a damaged or hostile file gives <see cref="ModuleFormatException"/>, never
/// another exception, an allocation larger than the file, or a hang: walks that follow children
/// keep a visited set, which turns loops and shared subtrees into an error.
/// </remarks>
internal sealed class IndexFile
{
    public const uint Magic = 0xB007F457;
    public const int SupportedMajorVersion = 2;
    public const int HeaderLength = 12;

    /// <summary>Longest key accepted: kmod's keys are module names, aliases and symbols, all far shorter.</summary>
    public const int MaxKeyBytes = 4096;

    private readonly byte[] _data;
    private readonly uint _rootReference;

    private IndexFile(string path, byte[] data)
    {
        Path = path;
        _data = data;
        if (data.Length < HeaderLength)
            throw new ModuleFormatException(path, data.Length, $"the file is {data.Length} bytes, shorter than the {HeaderLength}-byte index header");
        var magic = IndexNode.ReadU32(data, 0);
        if (magic != Magic)
            throw new ModuleFormatException(path, 0, $"magic 0x{magic:X8} is not a kmod index's 0x{Magic:X8}");
        Version = IndexNode.ReadU32(data, 4);
        if (Version >> 16 != SupportedMajorVersion)
            throw new ModuleFormatException(path, 4, $"index format version {Version >> 16}.{Version & 0xFFFF} is not the {SupportedMajorVersion}.x this reader knows");
        _rootReference = IndexNode.ReadU32(data, 8);
        if ((_rootReference & IndexNode.PositionMask) != 0)
            _ = Node(_rootReference); // a broken root is reported when the file is opened
    }

    public string Path { get; }

    /// <summary>The format version from the header (0x00020001 for every kmod so far).</summary>
    public uint Version { get; }

    public int Length => _data.Length;

    public static IndexFile Open(string path, SystemRoot? within = null) => new(path, Files.SafeFile.ReadAll(path, Files.FileLimits.BinaryIndex, within));

    /// <summary>Reads an index from bytes already in memory; <paramref name="path"/> only names it in errors.</summary>
    public static IndexFile Parse(string path, byte[] data) => new(path, data ?? throw new ArgumentNullException(nameof(data)));

    /// <summary>
    /// The first value of <paramref name="key"/>, or null: kmod's index_search, used for
    /// modules.dep.bin and modules.builtin.bin. Keys are matched exactly, never as patterns.
    /// </summary>
    public string? Lookup(string key)
    {
        var node = Find(key);
        return node is { HasValues: true } n ? ReadValues(n)[0].Value : null;
    }

    /// <summary>Every value of <paramref name="key"/> (exact match), in kmod's order.</summary>
    public IReadOnlyList<IndexValue> LookupAll(string key)
    {
        var node = Find(key);
        return node is { HasValues: true } n ? ReadValues(n) : [];
    }

    /// <summary>
    /// kmod's index_searchwild: the index's keys are fnmatch patterns (aliases such as
    /// "pci:v00008086d*sv*"), matched against the concrete <paramref name="text"/>. Returns the
    /// values of every matching key, merged by ascending priority.
    /// </summary>
    public IReadOnlyList<IndexValue> SearchWildcard(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var key = Encoding.UTF8.GetBytes(text);
        var arrivals = new List<IndexValue>();
        if ((_rootReference & IndexNode.PositionMask) != 0) SearchWildcard(key, arrivals);
        return KmodOrder(arrivals);
    }

    private void SearchWildcard(byte[] key, List<IndexValue> results)
    {

        var buffer = new KeyBuffer(Path);
        var node = Node(_rootReference);
        var i = 0;
        while (true)
        {
            var prefix = node.Prefix;
            for (var j = 0; j < prefix.Length; j++)
            {
                var ch = prefix[j];
                if (IsWildcard(ch))
                {
                    // From the first wildcard on, the rest of this subtree is patterns.
                    MatchSubtree(node, j, buffer, key.AsSpan(i + j), results);
                    return;
                }
                if (i + j >= key.Length || ch != key[i + j]) return;
            }
            i += prefix.Length;

            foreach (var wildcard in "*?["u8)
            {
                var child = node.ChildReference(wildcard);
                if ((child & IndexNode.PositionMask) == 0) continue;
                buffer.Push(wildcard);
                MatchSubtree(Node(child), 0, buffer, key.AsSpan(i), results);
                buffer.Pop(1);
            }

            if (i == key.Length)
            {
                if (node.HasValues) results.AddRange(ReadValues(node));
                return;
            }

            var next = node.ChildReference(key[i]);
            if ((next & IndexNode.PositionMask) == 0) return;
            node = Node(next);
            i++;
        }
    }

    /// <summary>Every key with each of its values, keys in ascending byte order (a node's values before its children).</summary>
    public IEnumerable<IndexEntry> Enumerate()
    {
        if ((_rootReference & IndexNode.PositionMask) == 0) yield break;
        var buffer = new KeyBuffer(Path);
        foreach (var node in Walk(Node(_rootReference), 0, buffer, new HashSet<int>(), valuesAfterChildren: false))
        {
            var key = buffer.ToString();
            foreach (var value in ReadValues(node))
                yield return new IndexEntry(key, value.Value, value.Priority);
        }
    }

    private static bool IsWildcard(byte ch) => ch is (byte)'*' or (byte)'?' or (byte)'[';

    /// <summary>The node whose key is exactly <paramref name="text"/>, or null.</summary>
    private IndexNode? Find(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if ((_rootReference & IndexNode.PositionMask) == 0) return null;
        var key = Encoding.UTF8.GetBytes(text);
        var node = Node(_rootReference);
        var i = 0;
        // Each step consumes at least one byte of the key, so this ends even on a looping file.
        while (true)
        {
            var prefix = node.Prefix;
            if (key.Length - i < prefix.Length || !key.AsSpan(i, prefix.Length).SequenceEqual(prefix)) return null;
            i += prefix.Length;
            if (i == key.Length) return node;
            var child = node.ChildReference(key[i]);
            if ((child & IndexNode.PositionMask) == 0) return null;
            node = Node(child);
            i++;
        }
    }

    /// <summary>
    /// kmod's index_searchwild__all: children first, then this node's own pattern. Each walk has
    /// its own visited set: a query that itself contains "*" descends into a subtree that was
    /// already walked as a pattern, legitimately. There are at most three walks per query byte.
    /// </summary>
    private void MatchSubtree(IndexNode start, int skip, KeyBuffer buffer, ReadOnlySpan<byte> subkey, List<IndexValue> results)
    {
        var text = Encoding.UTF8.GetString(subkey);
        foreach (var node in Walk(start, skip, buffer, new HashSet<int>(), valuesAfterChildren: true))
        {
            if (!FnMatch.IsMatch(buffer.ToString(), text)) continue;
            results.AddRange(ReadValues(node));
        }
    }

    /// <summary>
    /// Depth-first walk over the subtree at <paramref name="start"/>, yielding each node that has
    /// values while <paramref name="buffer"/> holds its key. Iterative, so a deep hostile file
    /// cannot overflow the stack; the visited set bounds the work by the file's node count.
    /// </summary>
    private IEnumerable<IndexNode> Walk(IndexNode start, int skip, KeyBuffer buffer, HashSet<int> visited, bool valuesAfterChildren)
    {
        var stack = new List<Frame>();
        Enter(start, skip, buffer.Length);
        if (!valuesAfterChildren && start.HasValues) yield return start;
        while (stack.Count > 0)
        {
            var top = stack.Count - 1;
            var frame = stack[top];
            var ch = frame.NextChar;
            uint child = 0;
            while (ch <= frame.Node.Last && ((child = frame.Node.ChildReference(ch)) & IndexNode.PositionMask) == 0) ch++;
            if (ch <= frame.Node.Last)
            {
                stack[top] = frame with { NextChar = ch + 1 };
                var before = buffer.Length;
                buffer.Push((byte)ch);
                var node = Node(child);
                Enter(node, 0, before);
                if (!valuesAfterChildren && node.HasValues) yield return node;
                continue;
            }
            if (valuesAfterChildren && frame.Node.HasValues) yield return frame.Node;
            buffer.Pop(buffer.Length - frame.KeyLengthBefore);
            stack.RemoveAt(top);
        }

        void Enter(IndexNode node, int prefixSkip, int keyLengthBefore)
        {
            if (!visited.Add(node.Position))
                throw new ModuleFormatException(Path, node.Position, "a node is reached twice: the index loops or shares a subtree");
            buffer.Push(node.Prefix[prefixSkip..]);
            stack.Add(new Frame(node, keyLengthBefore, node.First));
        }
    }

    private readonly record struct Frame(IndexNode Node, int KeyLengthBefore, int NextChar);

    private IndexNode Node(uint reference) => new(Path, _data, reference, HeaderLength);

    /// <summary>A node's values in kmod's order (see <see cref="KmodOrder"/>), bounds-checked.</summary>
    private List<IndexValue> ReadValues(IndexNode node)
    {
        var values = new List<IndexValue>(node.ValueCount);
        var cursor = node.ValuesStart;
        for (var v = 0; v < node.ValueCount; v++)
        {
            if (_data.Length - cursor < 4)
                throw new ModuleFormatException(Path, cursor, $"value {v + 1} of {node.ValueCount} is cut off by the end of the file");
            var priority = IndexNode.ReadU32(_data, cursor);
            cursor += 4;
            var nul = Array.IndexOf(_data, (byte)0, cursor);
            if (nul < 0)
                throw new ModuleFormatException(Path, cursor, $"value {v + 1} of {node.ValueCount} has no terminating NUL before the end of the file");
            values.Add(new IndexValue(Encoding.UTF8.GetString(_data, cursor, nul - cursor), priority));
            cursor = nul + 1;
        }
        return KmodOrder(values);
    }

    /// <summary>
    /// kmod's order for values added one by one with its add_value: ascending priority, each
    /// newcomer placed before existing values of equal priority. That is a stable sort of the
    /// reversed arrival order, done here in O(n log n) where inserting one by one would be
    /// quadratic on a hostile file. Used for a node's values and for merged wildcard matches, so
    /// results come in kmod's order (modprobe prints and loads in this order).
    /// </summary>
    private static List<IndexValue> KmodOrder(List<IndexValue> arrivals)
    {
        if (arrivals.Count < 2) return arrivals;
        arrivals.Reverse();
        return [.. arrivals.OrderBy(v => v.Priority)];
    }

    /// <summary>The key bytes of the node being visited, capped at <see cref="MaxKeyBytes"/>.</summary>
    private sealed class KeyBuffer(string path)
    {
        private readonly byte[] _bytes = new byte[MaxKeyBytes];

        public int Length { get; private set; }

        public void Push(byte b) => Push([b]);

        public void Push(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length > MaxKeyBytes - Length)
                throw new ModuleFormatException(path, -1, $"a key is longer than {MaxKeyBytes:N0} bytes; kmod's keys are short names and aliases");
            bytes.CopyTo(_bytes.AsSpan(Length));
            Length += bytes.Length;
        }

        public void Pop(int count) => Length -= count;

        public override string ToString() => Encoding.UTF8.GetString(_bytes, 0, Length);
    }
}
