namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// One node of a .bin index, located and bounds-checked but not yet decoded: the reader decodes
/// only the prefix bytes, child offsets and values a lookup actually needs.
/// </summary>
internal readonly struct IndexNode
{
    public const uint FlagPrefix = 0x80000000;
    public const uint FlagValues = 0x40000000;
    public const uint FlagChildren = 0x20000000;
    public const uint PositionMask = 0x0FFFFFFF;

    /// <summary>Smallest encoded value: a u32 priority and an empty NUL-terminated string.</summary>
    private const int MinValueBytes = 5;

    private readonly byte[] _data;

    public IndexNode(string path, byte[] data, uint reference, int headerLength)
    {
        _data = data;
        Position = (int)(reference & PositionMask);
        if (Position < headerLength)
            throw new ModuleFormatException(path, Position, $"a node offset (0x{reference:X8}) points into the {headerLength}-byte header");
        if (Position > data.Length)
            throw new ModuleFormatException(path, Position, $"a node offset (0x{reference:X8}) points past the end of the {data.Length:N0}-byte file");

        var cursor = Position;
        if ((reference & FlagPrefix) != 0)
        {
            var nul = Array.IndexOf(data, (byte)0, cursor);
            if (nul < 0)
                throw new ModuleFormatException(path, cursor, "a node's prefix has no terminating NUL before the end of the file");
            PrefixStart = cursor;
            PrefixLength = nul - cursor;
            cursor = nul + 1;
        }
        else
        {
            PrefixStart = cursor;
        }

        if ((reference & FlagChildren) != 0)
        {
            if (data.Length - cursor < 2)
                throw new ModuleFormatException(path, cursor, "a node's child range is cut off by the end of the file");
            First = data[cursor];
            Last = data[cursor + 1];
            if (First > Last)
                throw new ModuleFormatException(path, cursor, $"a node's child range is backwards (first 0x{First:X2}, last 0x{Last:X2})");
            cursor += 2;
            ChildrenStart = cursor;
            var childBytes = (Last - First + 1) * 4;
            if (data.Length - cursor < childBytes)
                throw new ModuleFormatException(path, cursor, $"a node's {Last - First + 1} child offsets are cut off by the end of the file");
            cursor += childBytes;
        }
        else
        {
            First = 1; // an empty range: no children
            Last = 0;
        }

        if ((reference & FlagValues) != 0)
        {
            if (data.Length - cursor < 4)
                throw new ModuleFormatException(path, cursor, "a node's value count is cut off by the end of the file");
            var count = ReadU32(data, cursor);
            cursor += 4;
            // Check the count against the bytes left before anything is sized by it.
            if (count > (uint)((data.Length - cursor) / MinValueBytes))
                throw new ModuleFormatException(path, cursor - 4, $"a node claims {count:N0} values, more than the rest of the file can hold");
            ValueCount = (int)count;
            ValuesStart = cursor;
        }
    }

    public int Position { get; }
    public int PrefixStart { get; }
    public int PrefixLength { get; }
    public int First { get; }
    public int Last { get; }
    public int ChildrenStart { get; }
    public int ValueCount { get; }
    public int ValuesStart { get; }
    public bool HasValues => ValueCount > 0;

    public ReadOnlySpan<byte> Prefix => _data.AsSpan(PrefixStart, PrefixLength);

    /// <summary>The raw offset of the child for <paramref name="ch"/>, 0 when there is none.</summary>
    public uint ChildReference(int ch) =>
        ch >= First && ch <= Last ? ReadU32(_data, ChildrenStart + (ch - First) * 4) : 0;

    public static uint ReadU32(byte[] data, int offset) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(offset, 4));
}
