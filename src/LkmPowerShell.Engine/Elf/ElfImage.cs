using System.Buffers.Binary;
using System.Text;

namespace LkmPowerShell.Engine.Elf;

/// <summary>
/// The one ELF reader of the engine, for relocatable objects (kernel modules): ELF32 and ELF64,
/// little- and big-endian. Its bytes come from an <see cref="ElfSource"/> (an image in memory, or a
/// file read with pread where needed; never memory-mapped: a file truncated under a mapping kills
/// the process with SIGBUS). It checks every offset and size against the source's length before
/// use, and so never allocates more than the input it was given. Every problem is a
/// <see cref="ModuleFormatException"/> naming the file, the offset and what is wrong.
/// </summary>
public sealed class ElfImage
{
    private const int ElfHeader32Size = 52;
    private const int ElfHeader64Size = 64;
    private const int SectionHeader32Size = 40;
    private const int SectionHeader64Size = 64;

    private readonly ElfSource _source;
    private readonly ElfSection[] _sections;

    private ElfImage(ElfSource source, string path, bool is64, bool bigEndian, ushort machine, ElfSection[] sections)
    {
        _source = source;
        Path = path;
        Is64Bit = is64;
        IsBigEndian = bigEndian;
        Machine = machine;
        _sections = sections;
    }

    public string Path { get; }
    public bool Is64Bit { get; }
    public bool IsBigEndian { get; }

    /// <summary>e_machine: 62 x86_64, 183 aarch64, 3 i386, 40 arm, 2 and 43 sparc ...</summary>
    public ushort Machine { get; }

    public IReadOnlyList<ElfSection> Sections => _sections;

    public static bool HasElfMagic(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && data[0] == 0x7F && data[1] == (byte)'E' && data[2] == (byte)'L' && data[3] == (byte)'F';

    /// <summary>Parses the ELF header and the section header table of an image in memory.</summary>
    public static ElfImage Parse(ReadOnlyMemory<byte> data, string path) => Parse(ElfSource.FromMemory(data), path);

    /// <summary>Parses the ELF header and the section header table; section data is read when asked for.</summary>
    public static ElfImage Parse(ElfSource source, string path)
    {
        var fileLength = source.Length;
        var span = source.Get(0, (int)Math.Min(fileLength, ElfHeader64Size)).Span;
        if (!HasElfMagic(span))
            throw new ModuleFormatException(path, 0, "not an ELF file (no \\x7FELF magic at the start)");
        if (span.Length < 16)
            throw new ModuleFormatException(path, span.Length, "file ends inside the ELF identification bytes");

        bool is64 = span[4] switch
        {
            1 => false,
            2 => true,
            var c => throw new ModuleFormatException(path, 4, $"unknown ELF class {c} (expected 1 for ELF32 or 2 for ELF64)"),
        };
        bool big = span[5] switch
        {
            1 => false,
            2 => true,
            var d => throw new ModuleFormatException(path, 5, $"unknown ELF data encoding {d} (expected 1 little-endian or 2 big-endian)"),
        };

        var headerSize = is64 ? ElfHeader64Size : ElfHeader32Size;
        if (span.Length < headerSize)
            throw new ModuleFormatException(path, span.Length, $"file ends inside the ELF header ({span.Length} of {headerSize} bytes)");

        var r = new EndianReader(big);
        ushort type = r.U16(span, 16);
        ushort machine = r.U16(span, 18);
        ulong shoff = is64 ? r.U64(span, 40) : r.U32(span, 32);
        ushort shentsize = r.U16(span, is64 ? 58 : 46);
        ushort shnum = r.U16(span, is64 ? 60 : 48);
        ushort shstrndx = r.U16(span, is64 ? 62 : 50);

        // ET_REL: a module is a relocatable object. kmod does not check this, but an executable or
        // shared library can never be loaded as a module, and saying so early is clearer.
        if (type != 1)
            throw new ModuleFormatException(path, 16, $"ELF type {type} is not a relocatable object (a kernel module is ET_REL, type 1)");

        var expectedEntSize = is64 ? SectionHeader64Size : SectionHeader32Size;
        if (shentsize != expectedEntSize)
            throw new ModuleFormatException(path, is64 ? 58 : 46, $"section header entry size is {shentsize}, expected {expectedEntSize}");
        if (shnum == 0)
            throw new ModuleFormatException(path, is64 ? 60 : 48, "the file has no section headers");
        var tableSize = (ulong)shnum * shentsize;
        if (shoff > (ulong)fileLength || tableSize > (ulong)fileLength - shoff)
            throw new ModuleFormatException(path, (long)Math.Min(shoff, long.MaxValue),
                $"the section header table ({shnum} entries at offset {shoff}) lies beyond the end of the file ({fileLength} bytes)");

        var table = source.Get((long)shoff, (int)tableSize).Span;
        var sections = new ElfSection[shnum];
        for (var i = 0; i < shnum; i++)
        {
            var at = (long)shoff + i * shentsize;
            var sh = table.Slice(i * shentsize, shentsize);
            sections[i] = is64
                ? new ElfSection(i, r.U32(sh, 0), r.U32(sh, 4), r.U64(sh, 8), r.U64(sh, 24), r.U64(sh, 32), r.U32(sh, 40), r.U32(sh, 44), r.U64(sh, 56), at)
                : new ElfSection(i, r.U32(sh, 0), r.U32(sh, 4), r.U32(sh, 8), r.U32(sh, 16), r.U32(sh, 20), r.U32(sh, 24), r.U32(sh, 28), r.U32(sh, 36), at);
        }

        if (shstrndx == 0 || shstrndx >= shnum)
            throw new ModuleFormatException(path, is64 ? 62 : 50, $"the section name table index {shstrndx} is not a section (there are {shnum})");

        var image = new ElfImage(source, path, is64, big, machine, sections);
        var names = image.SectionData(sections[shstrndx]);
        if (names.Length == 0 || names[^1] != 0)
            throw new ModuleFormatException(path, (long)sections[shstrndx].Offset, "the section name table does not end with a NUL byte");
        for (var i = 0; i < shnum; i++)
        {
            var nameOffset = sections[i].NameOffset;
            sections[i].Name = nameOffset < (uint)names.Length ? RecurringText.Latin1(CString(names[(int)nameOffset..])) : "";
        }
        return image;
    }

    /// <summary>The first section with that name, as kmod looks sections up (index 0 never matches).</summary>
    public ElfSection? FindSection(string name)
    {
        for (var i = 1; i < _sections.Length; i++)
            if (_sections[i].Name == name)
                return _sections[i];
        return null;
    }

    /// <summary>The bytes of a section; SHT_NOBITS sections (.bss) occupy no file space and read as empty.</summary>
    public ReadOnlySpan<byte> SectionData(ElfSection section) => SectionMemory(section).Span;

    /// <summary>The bytes of a section, as memory a caller may keep while it reads others.</summary>
    public ReadOnlyMemory<byte> SectionMemory(ElfSection section)
    {
        if (section.Type == ElfSection.ShtNoBits || section.Size == 0)
            return ReadOnlyMemory<byte>.Empty;
        var length = (ulong)_source.Length;
        if (section.Offset > length || section.Size > length - section.Offset)
            throw new ModuleFormatException(Path, section.HeaderOffset,
                $"section {Describe(section)} claims {section.Size} bytes at offset {section.Offset}, beyond the end of the file ({length} bytes)");
        return _source.Get((long)section.Offset, (int)section.Size);
    }

    /// <summary>
    /// A symbol table section with its string table, read once; symbols are decoded one at a time
    /// and their names stay bytes until a caller wants a string (depmod wants few of them).
    /// </summary>
    public ElfSymbolTable OpenSymbols(ElfSection symtab)
    {
        var entrySize = Is64Bit ? 24 : 16;
        var data = SectionMemory(symtab);
        if (data.Length % entrySize != 0)
            throw new ModuleFormatException(Path, (long)symtab.Offset,
                $"section {Describe(symtab)} is {data.Length} bytes, not a whole number of {entrySize}-byte symbols");
        if (symtab.Link == 0 || symtab.Link >= (uint)_sections.Length)
            throw new ModuleFormatException(Path, symtab.HeaderOffset,
                $"section {Describe(symtab)} links to string table {symtab.Link}, which is not a section");
        var strtab = _sections[symtab.Link];
        return new ElfSymbolTable(this, symtab, strtab, data, SectionMemory(strtab));
    }

    /// <summary>The symbols of a symbol table section, names resolved through the string table its sh_link names.</summary>
    public ElfSymbol[] ReadSymbols(ElfSection symtab)
    {
        var table = OpenSymbols(symtab);
        var symbols = new ElfSymbol[table.Count];
        for (var i = 0; i < symbols.Length; i++)
        {
            var s = table[i];
            symbols[i] = new ElfSymbol(Latin1(s.Name), s.Value, s.Info, s.SectionIndex);
        }
        return symbols;
    }

    /// <summary>Reads an unsigned integer of 4 or 8 bytes at an absolute offset, in the file's byte order.</summary>
    public ulong ReadUnsigned(long offset, int size)
    {
        var length = _source.Length;
        if (offset < 0 || offset > length - size)
            throw new ModuleFormatException(Path, offset, $"a {size}-byte value at offset {offset} lies beyond the end of the file ({length} bytes)");
        return ReadUnsigned(_source.Get(offset, size).Span, 0, size);
    }

    /// <summary>An unsigned integer of 2, 4 or 8 bytes inside a buffer, in the file's byte order.</summary>
    internal ulong ReadUnsigned(ReadOnlySpan<byte> buffer, int at, int size)
    {
        var r = new EndianReader(IsBigEndian);
        return size switch { 8 => r.U64(buffer, at), 4 => r.U32(buffer, at), _ => r.U16(buffer, at) };
    }

    internal string Describe(ElfSection s) => s.Name.Length > 0 ? $"{s.Index} ({s.Name})" : s.Index.ToString();

    /// <summary>The bytes up to the first NUL, or all of them.</summary>
    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOf((byte)0);
        return end < 0 ? bytes : bytes[..end];
    }

    /// <summary>
    /// Module strings are bytes, not text: Latin-1 maps every byte to one char and back, so
    /// nothing is lost or replaced (kmod prints the raw bytes).
    /// </summary>
    internal static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    internal readonly struct EndianReader(bool big)
    {
        public ushort U16(ReadOnlySpan<byte> s, int at) =>
            big ? BinaryPrimitives.ReadUInt16BigEndian(s[at..]) : BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);

        public uint U32(ReadOnlySpan<byte> s, int at) =>
            big ? BinaryPrimitives.ReadUInt32BigEndian(s[at..]) : BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);

        public ulong U64(ReadOnlySpan<byte> s, int at) =>
            big ? BinaryPrimitives.ReadUInt64BigEndian(s[at..]) : BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);
    }
}
