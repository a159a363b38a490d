using System.Buffers.Binary;
using System.Text;
using LkmPowerShell.Engine.Elf;
using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// Where the parser gets bytes: a decompressed image in memory, or an uncompressed module file read
/// with pread, only the parts depmod needs (headers, .symtab, .strtab, .modinfo, __versions,
/// __ksymtab_strings and the CRC sections: a few percent of a module), much as kmod's mmap only
/// touches those pages. Spans stay valid until <see cref="Reset"/>.
/// </summary>
internal abstract class ModuleBytes
{
    public abstract long Length { get; }

    /// <summary>Bytes [offset, offset + length); the caller has checked the range against <see cref="Length"/>.</summary>
    public abstract ReadOnlySpan<byte> Get(long offset, int length);

    public virtual void Reset() { }
}

internal sealed class MemoryModuleBytes(ReadOnlyMemory<byte> image) : ModuleBytes
{
    public override long Length => image.Length;
    public override ReadOnlySpan<byte> Get(long offset, int length) => image.Span.Slice((int)offset, length);
}

/// <summary>pread into reusable per-worker buffers, one buffer per request of a module.</summary>
internal sealed class FileModuleBytes : ModuleBytes
{
    private readonly List<byte[]> _slots = [];
    private int _next;
    private SafeFileHandle? _handle;
    private long _length;

    public void Open(SafeFileHandle handle, long length)
    {
        _handle = handle;
        _length = length;
        _next = 0;
    }

    public override long Length => _length;

    public override ReadOnlySpan<byte> Get(long offset, int length)
    {
        if (_next == _slots.Count) _slots.Add([]);
        if (_slots[_next].Length < length) _slots[_next] = new byte[Math.Max(length, 4096)];
        var buffer = _slots[_next++].AsSpan(0, length);
        var total = 0;
        while (total < length)
        {
            var n = RandomAccess.Read(_handle!, buffer[total..], offset + total);
            if (n == 0) throw new EndOfStreamException("the file shrank while it was read");
            total += n;
        }
        return buffer;
    }

    public override void Reset()
    {
        _next = 0;
        _handle = null;
    }
}

/// <summary>
/// Extracts a module's <see cref="ModuleFacts"/> straight from its ELF sections, without building
/// the full <see cref="ModuleFiles.ModuleFileInfo"/> (no signature, no string for every local
/// symbol). Same rules as the engine's module reader and kmod's libkmod-elf.c: exports from the
/// "__crc_" symbols or else __ksymtab_strings, needs from the undefined symbols and then the
/// __versions entries no symbol named, .modinfo split at runs of NULs. Every offset is checked
/// against the file's length; a damaged file gives <see cref="ModuleFormatException"/>.
/// </summary>
internal static class ModuleFactsParser
{
    private const string CrcPrefix = "__crc_";

    private readonly record struct Section(int Index, string Name, uint Type, ulong Offset, ulong Size, uint Link);

    public static ModuleFacts Parse(ModuleBytes bytes, string path)
    {
        var length = bytes.Length;
        if (length < 16)
            throw new ModuleFormatException(path, 0, "too short for an ELF file");
        var ident = bytes.Get(0, (int)Math.Min(length, 64));
        if (!ElfImage.HasElfMagic(ident))
            throw new ModuleFormatException(path, 0, "not an ELF file (no \\x7FELF magic at the start)");
        var is64 = ident[4] switch { 1 => false, 2 => true, _ => throw new ModuleFormatException(path, 4, "unknown ELF class") };
        var big = ident[5] switch { 1 => false, 2 => true, _ => throw new ModuleFormatException(path, 5, "unknown ELF data encoding") };
        var headerSize = is64 ? 64 : 52;
        if (ident.Length < headerSize)
            throw new ModuleFormatException(path, ident.Length, "file ends inside the ELF header");
        var r = new Endian(big);
        var machine = r.U16(ident, 18);
        var shoff = is64 ? r.U64(ident, 40) : r.U32(ident, 32);
        var shentsize = r.U16(ident, is64 ? 58 : 46);
        var shnum = r.U16(ident, is64 ? 60 : 48);
        var shstrndx = r.U16(ident, is64 ? 62 : 50);
        if (shentsize != (is64 ? 64 : 40) || shnum == 0 || shstrndx == 0 || shstrndx >= shnum)
            throw new ModuleFormatException(path, 0, "the ELF section header table is not usable");
        var tableSize = (ulong)shnum * shentsize;
        if (shoff > (ulong)length || tableSize > (ulong)length - shoff)
            throw new ModuleFormatException(path, (long)Math.Min(shoff, long.MaxValue), "the section header table lies beyond the end of the file");

        var table = bytes.Get((long)shoff, (int)tableSize);
        var raw = new (uint Name, uint Type, ulong Offset, ulong Size, uint Link)[shnum];
        for (var i = 0; i < shnum; i++)
        {
            var sh = table.Slice(i * shentsize, shentsize);
            raw[i] = is64
                ? (r.U32(sh, 0), r.U32(sh, 4), r.U64(sh, 24), r.U64(sh, 32), r.U32(sh, 40))
                : (r.U32(sh, 0), r.U32(sh, 4), r.U32(sh, 16), r.U32(sh, 20), r.U32(sh, 24));
        }
        var names = Data(bytes, path, raw[shstrndx].Type, raw[shstrndx].Offset, raw[shstrndx].Size);
        if (names.Length == 0 || names[^1] != 0)
            throw new ModuleFormatException(path, (long)raw[shstrndx].Offset, "the section name table does not end with a NUL byte");
        Section? symtab = null, modinfo = null, versions = null, ksymtabStrings = null;
        var sections = new Section[shnum];
        for (var i = 0; i < shnum; i++)
        {
            var name = raw[i].Name < (uint)names.Length ? CString(names, (int)raw[i].Name) : "";
            sections[i] = new Section(i, name, raw[i].Type, raw[i].Offset, raw[i].Size, raw[i].Link);
            if (i == 0) continue;
            switch (name)
            {
                case ".symtab": symtab ??= sections[i]; break;
                case ".modinfo": modinfo ??= sections[i]; break;
                case "__versions": versions ??= sections[i]; break;
                case "__ksymtab_strings": ksymtabStrings ??= sections[i]; break;
            }
        }

        List<string> aliases = [], softdeps = [], weakdeps = [];
        if (modinfo is { } mi)
            ReadModinfo(Data(bytes, path, mi), aliases, softdeps, weakdeps);

        // __versions: 64-byte entries (CRC of the word size, then the name); a partial table is ignored.
        var versionNames = new List<string>();
        var versionCrcs = new List<ulong>();
        var versionIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        if (versions is { } vs)
        {
            var data = Data(bytes, path, vs);
            if (data.Length % 64 == 0)
            {
                var crcSize = is64 ? 8 : 4;
                for (var at = 0; at < data.Length; at += 64)
                {
                    var name = CString(data.Slice(at + crcSize, 64 - crcSize), 0);
                    name = name.StartsWith('.') ? name[1..] : name;
                    versionIndex.TryAdd(name, versionNames.Count); // the first entry of a name counts
                    versionNames.Add(name);
                    versionCrcs.Add(is64 ? r.U64(data, at) : r.U32(data, at));
                }
            }
        }

        var exports = new List<ProvidedSymbol>();
        var needs = new List<NeededSymbol>();
        if (symtab is { } st)
        {
            var entrySize = is64 ? 24 : 16;
            var symbols = Data(bytes, path, st);
            if (symbols.Length % entrySize != 0)
                throw new ModuleFormatException(path, (long)st.Offset, "the symbol table is not a whole number of symbols");
            if (st.Link == 0 || st.Link >= shnum)
                throw new ModuleFormatException(path, (long)st.Offset, "the symbol table links to no string table");
            var strings = Data(bytes, path, sections[st.Link]);
            var visited = new bool[versionNames.Count];
            var crcs = new List<(string Name, ulong Value, ushort Section)>();
            var sparc = machine is 2 or 43;
            for (var i = 1; i < symbols.Length / entrySize; i++)
            {
                var s = symbols.Slice(i * entrySize, entrySize);
                var nameOffset = r.U32(s, 0);
                byte info;
                ushort shndx;
                ulong value;
                if (is64) { info = s[4]; shndx = r.U16(s, 6); value = r.U64(s, 8); }
                else { value = r.U32(s, 4); info = s[12]; shndx = r.U16(s, 14); }
                if (nameOffset >= (uint)strings.Length)
                {
                    if (nameOffset == 0 && strings.Length == 0) continue;
                    throw new ModuleFormatException(path, (long)st.Offset + i * entrySize, $"symbol {i} names a string beyond the string table");
                }
                var name = strings[(int)nameOffset..];
                if (shndx == ElfSymbol.SectionUndefined)
                {
                    if (name[0] == 0 || (sparc && (info & 0xF) == 13)) continue;
                    var text = CString(name, 0);
                    ulong crc = 0;
                    if (versionIndex.TryGetValue(text, out var v)) { visited[v] = true; crc = versionCrcs[v]; }
                    needs.Add(new NeededSymbol(text, crc, info >> 4 == ElfSymbol.BindWeak));
                }
                else if (name.StartsWith("__crc_"u8))
                {
                    crcs.Add((CString(name, CrcPrefix.Length), value, shndx));
                }
            }
            for (var v = 0; v < versionNames.Count; v++)
                if (!visited[v])
                    needs.Add(new NeededSymbol(versionNames[v], versionCrcs[v], false));
            // Each CRC section is read once; the CRCs keep the symbols' order.
            var values = new ulong[crcs.Count];
            foreach (var shndx in crcs.Select(c => c.Section).Distinct())
            {
                var section = shndx < sections.Length ? sections[shndx] : default;
                var usable = shndx is not (ElfSymbol.SectionAbsolute or ElfSymbol.SectionUndefined) && shndx < sections.Length
                    && section.Type != ElfSection.ShtNoBits && section.Size >= 4
                    && section.Offset <= (ulong)bytes.Length && section.Size <= (ulong)bytes.Length - section.Offset;
                var data = usable ? bytes.Get((long)section.Offset, (int)section.Size) : [];
                for (var c = 0; c < crcs.Count; c++)
                {
                    if (crcs[c].Section != shndx) continue;
                    var value = crcs[c].Value;
                    values[c] = shndx is ElfSymbol.SectionAbsolute or ElfSymbol.SectionUndefined ? value
                        : usable && value <= (ulong)data.Length - 4 ? r.U32(data, (int)value)
                        : 0; // no CRC where the symbol points: the engine's reader has none either
                }
            }
            for (var c = 0; c < crcs.Count; c++)
                exports.Add(new ProvidedSymbol(crcs[c].Name, values[c]));
        }
        if (exports.Count == 0 && ksymtabStrings is { } ks)
            foreach (var name in SplitStrings(Data(bytes, path, ks)))
                exports.Add(new ProvidedSymbol(name, 0));
        return new ModuleFacts([.. exports], [.. needs], [.. aliases], [.. softdeps], [.. weakdeps], null);
    }

    private static ReadOnlySpan<byte> Data(ModuleBytes bytes, string path, Section s) => Data(bytes, path, s.Type, s.Offset, s.Size);

    private static ReadOnlySpan<byte> Data(ModuleBytes bytes, string path, uint type, ulong offset, ulong size)
    {
        if (type == ElfSection.ShtNoBits || size == 0)
            return [];
        var length = (ulong)bytes.Length;
        if (offset > length || size > length - offset)
            throw new ModuleFormatException(path, (long)Math.Min(offset, long.MaxValue), $"a section claims {size} bytes at offset {offset}, beyond the end of the file ({length} bytes)");
        return bytes.Get((long)offset, (int)size);
    }

    /// <summary>.modinfo strings (runs of NULs separate them); only the keys depmod writes out become strings.</summary>
    private static void ReadModinfo(ReadOnlySpan<byte> data, List<string> aliases, List<string> softdeps, List<string> weakdeps)
    {
        var i = 0;
        while (i < data.Length)
        {
            if (data[i] == 0) { i++; continue; }
            var end = data[i..].IndexOf((byte)0);
            var s = data.Slice(i, end < 0 ? data.Length - i : end);
            i += s.Length + 1;
            if (s.StartsWith("alias="u8)) aliases.Add(Latin1(s[6..]));
            else if (s.StartsWith("softdep="u8)) softdeps.Add(Latin1(s[8..]));
            else if (s.StartsWith("weakdep="u8)) weakdeps.Add(Latin1(s[8..]));
        }
    }

    private static List<string> SplitStrings(ReadOnlySpan<byte> data)
    {
        var result = new List<string>();
        var i = 0;
        while (i < data.Length)
        {
            if (data[i] == 0) { i++; continue; }
            var end = data[i..].IndexOf((byte)0);
            var len = end < 0 ? data.Length - i : end;
            result.Add(Latin1(data.Slice(i, len)));
            i += len + 1;
        }
        return result;
    }

    private static string CString(ReadOnlySpan<byte> data, int offset)
    {
        var rest = data[offset..];
        var end = rest.IndexOf((byte)0);
        return Latin1(end < 0 ? rest : rest[..end]);
    }

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    private readonly struct Endian(bool big)
    {
        public ushort U16(ReadOnlySpan<byte> s, int at) => big ? BinaryPrimitives.ReadUInt16BigEndian(s[at..]) : BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);
        public uint U32(ReadOnlySpan<byte> s, int at) => big ? BinaryPrimitives.ReadUInt32BigEndian(s[at..]) : BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);
        public ulong U64(ReadOnlySpan<byte> s, int at) => big ? BinaryPrimitives.ReadUInt64BigEndian(s[at..]) : BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);
    }
}
