namespace LkmPowerShell.Engine.Elf;

/// <summary>One section header, as read; its bounds are checked when its data is asked for.</summary>
public sealed class ElfSection
{
    public const uint ShtNoBits = 8;
    public const ulong ShfAlloc = 0x2;

    internal ElfSection(int index, uint nameOffset, uint type, ulong flags, ulong offset, ulong size, uint link, uint info, ulong entrySize, long headerOffset)
    {
        Index = index;
        NameOffset = nameOffset;
        Type = type;
        Flags = flags;
        Offset = offset;
        Size = size;
        Link = link;
        Info = info;
        EntrySize = entrySize;
        HeaderOffset = headerOffset;
    }

    public int Index { get; }
    public string Name { get; internal set; } = "";
    public uint NameOffset { get; }
    public uint Type { get; }
    public ulong Flags { get; }
    public ulong Offset { get; }
    public ulong Size { get; }
    public uint Link { get; }
    public uint Info { get; }
    public ulong EntrySize { get; }

    /// <summary>Where this section's header sits in the file (for error messages and patching).</summary>
    public long HeaderOffset { get; }

    public override string ToString() => $"[{Index}] {Name} offset {Offset} size {Size}";
}
