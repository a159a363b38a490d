using System.Buffers;
using System.Numerics;
using LkmPowerShell.Engine.Elf;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// Pulls kmod's facts out of a parsed module image: the .modinfo strings, exported symbols,
/// required symbols and __versions, with kmod's rules (libkmod-elf.c) for each. The one place
/// these rules live: the module reader (modinfo) and depmod both use it, as kmod's tools share
/// libkmod-elf.c. Symbol names stay bytes until one is kept, so depmod pays for few strings.
/// </summary>
internal static class ModuleElfExtractor
{
    private const string CrcPrefix = "__crc_";
    private const int ModversionEntrySize = 64;

    /// <summary>Checks that the image is a loadable module at all, with a message that says why not.</summary>
    public static void RequireModule(ElfImage elf)
    {
        if (elf.FindSection(".modinfo") is null)
            throw new ModuleFormatException(elf.Path, -1,
                "not a loadable kernel module: it has no .modinfo section; was it built into the kernel, or is it an ordinary object file?");
        if (elf.FindSection(".gnu.linkonce.this_module") is null)
            throw new ModuleFormatException(elf.Path, -1,
                "not a loadable kernel module: it has no .gnu.linkonce.this_module section (the kernel's struct module), so the kernel would refuse it");
    }

    /// <summary>
    /// .modinfo as kmod splits it: leading NUL padding skipped, strings separated by runs of NULs,
    /// a final unterminated string kept; each split at its first "=" (no "=": the whole string is
    /// the key and the value is empty).
    /// </summary>
    public static ModInfoEntry[] ReadModInfo(ElfImage elf) => ReadModInfo(elf, null);

    /// <summary>The same, keeping only the entries whose key is one of <paramref name="onlyKeys"/> (null: all).</summary>
    public static ModInfoEntry[] ReadModInfo(ElfImage elf, string[]? onlyKeys)
    {
        var section = elf.FindSection(".modinfo");
        if (section is null)
            return [];
        var data = elf.SectionData(section);
        // Counted first, so the result is made once at its size (no list grown and copied).
        var result = new ModInfoEntry[onlyKeys is null ? CountStrings(data) : 0];
        var list = onlyKeys is null ? default : new ArrayBuilder<ModInfoEntry>(16);
        var n = 0;
        var i = 0;
        while (i < data.Length)
        {
            if (data[i] == 0) { i++; continue; }
            var end = data[i..].IndexOf((byte)0);
            var s = data.Slice(i, end < 0 ? data.Length - i : end);
            i += s.Length + 1;
            var eq = s.IndexOf((byte)'=');
            var key = eq < 0 ? s : s[..eq];
            if (onlyKeys is not null && !IsOneOf(key, onlyKeys))
                continue;
            var keyText = RecurringText.Latin1(key);
            var entry = new ModInfoEntry(keyText, eq < 0 ? "" : Value(keyText, s[(eq + 1)..]));
            if (onlyKeys is null)
                result[n++] = entry;
            else
                list.Add(entry);
        }
        return onlyKeys is null ? result : list.ToArray();
    }

    /// <summary>A .modinfo value; those every module of a tree shares (vermagic, license, intree, retpoline) are made once.</summary>
    private static string Value(string key, ReadOnlySpan<byte> value) =>
        key is "vermagic" or "license" or "intree" or "retpoline" ? RecurringText.Latin1(value) : ElfImage.Latin1(value);

    private static bool IsOneOf(ReadOnlySpan<byte> key, string[] keys)
    {
        foreach (var k in keys)
            if (key.Length == k.Length && Latin1Equals(key, k))
                return true;
        return false;
    }

    private static bool Latin1Equals(ReadOnlySpan<byte> bytes, string text)
    {
        for (var i = 0; i < bytes.Length; i++)
            if (bytes[i] != text[i])
                return false;
        return true;
    }

    /// <summary>NUL-separated strings, runs of NULs (alignment padding) skipped.</summary>
    internal static List<string> SplitStrings(ReadOnlySpan<byte> data)
    {
        var result = new List<string>();
        var i = 0;
        while (i < data.Length)
        {
            if (data[i] == 0) { i++; continue; }
            var end = data[i..].IndexOf((byte)0);
            var len = end < 0 ? data.Length - i : end;
            result.Add(ElfImage.Latin1(data.Slice(i, len)));
            i += len + 1;
        }
        return result;
    }

    /// <summary>
    /// Exports: the "__crc_&lt;name&gt;" symbols of .symtab, each CRC the u32 at that offset of the
    /// symbol's section (or the value itself for SHN_ABS); with no such symbols, every string of
    /// __ksymtab_strings without a CRC (which on newer kernels also holds namespace names, as kmod
    /// reports them too).
    /// </summary>
    public static ExportedSymbol[] ReadExports(ElfImage elf, ElfSymbolTable? symbols)
    {
        if (symbols is not null)
        {
            var list = new ArrayBuilder<ExportedSymbol>(0);
            // Each CRC section is read once, however many CRCs point into it.
            var crcSections = new ArrayBuilder<CrcSection>(0);
            for (var i = 1; i < symbols.Count; i++)
            {
                var s = symbols[i];
                if (!s.NameStartsWith("__crc_"u8))
                    continue;
                list.Add(new ExportedSymbol(ElfImage.Latin1(s.Name[CrcPrefix.Length..]), ResolveCrc(elf, s, ref crcSections), ToBinding(s.Bind)));
            }
            if (list.Count > 0)
                return list.ToArray();
        }
        var strings = elf.FindSection("__ksymtab_strings");
        if (strings is null)
            return [];
        return SplitStrings(elf.SectionData(strings)).Select(n => new ExportedSymbol(n, null, SymbolBinding.Global)).ToArray();
    }

    /// <summary>
    /// How many symbols <see cref="ReadExports"/> returns, with the same checks (each CRC's location
    /// is resolved, so a damaged one fails the same way), without making them.
    /// </summary>
    public static int CountExports(ElfImage elf, ElfSymbolTable? symbols)
    {
        if (symbols is not null)
        {
            var count = 0;
            var crcSections = new ArrayBuilder<CrcSection>(0);
            for (var i = 1; i < symbols.Count; i++)
            {
                var s = symbols[i];
                if (!s.NameStartsWith("__crc_"u8))
                    continue;
                ResolveCrc(elf, s, ref crcSections);
                count++;
            }
            if (count > 0)
                return count;
        }
        var strings = elf.FindSection("__ksymtab_strings");
        return strings is null ? 0 : CountStrings(elf.SectionData(strings));
    }

    /// <summary>How many strings <see cref="SplitStrings"/> returns.</summary>
    private static int CountStrings(ReadOnlySpan<byte> data)
    {
        var count = 0;
        var i = 0;
        while (i < data.Length)
        {
            if (data[i] == 0) { i++; continue; }
            var end = data[i..].IndexOf((byte)0);
            count++;
            i += (end < 0 ? data.Length - i : end) + 1;
        }
        return count;
    }

    /// <summary>The u32 at the symbol's value in its section (or the value itself for SHN_ABS); null when it points nowhere.</summary>
    private static ulong? ResolveCrc(ElfImage elf, RawElfSymbol crcSymbol, ref ArrayBuilder<CrcSection> read)
    {
        if (crcSymbol.SectionIndex is ElfSymbol.SectionAbsolute or ElfSymbol.SectionUndefined)
            return crcSymbol.Value;
        if (crcSymbol.SectionIndex >= elf.Sections.Count)
            return null;
        var section = elf.Sections[crcSymbol.SectionIndex];
        if (section.Size < 4 || crcSymbol.Value > section.Size - 4 || section.Type == ElfSection.ShtNoBits)
            return null;
        ReadOnlyMemory<byte>? data = null;
        for (var i = 0; i < read.Count; i++)
            if (read[i].Index == crcSymbol.SectionIndex)
                data = read[i].Data;
        if (data is null)
        {
            data = elf.SectionMemory(section);
            read.Add(new CrcSection(crcSymbol.SectionIndex, data.Value));
        }
        return elf.ReadUnsigned(data.Value.Span, (int)crcSymbol.Value, 4);
    }

    /// <summary>A section CRCs were read from, kept for the next CRC that points into it.</summary>
    private readonly record struct CrcSection(ushort Index, ReadOnlyMemory<byte> Data);

    private static SymbolBinding ToBinding(byte bind) => bind switch
    {
        ElfSymbol.BindLocal => SymbolBinding.Local,
        ElfSymbol.BindGlobal => SymbolBinding.Global,
        ElfSymbol.BindWeak => SymbolBinding.Weak,
        _ => SymbolBinding.None,
    };

    /// <summary>
    /// __versions: 64-byte entries on both word sizes, a CRC of the word size then the name
    /// (a leading "." dropped, as on ppc64). A section that is not a whole number of entries is
    /// ignored, as kmod does when it looks for dependencies.
    /// </summary>
    public static SymbolVersion[] ReadVersions(ElfImage elf)
    {
        var data = VersionEntries(elf).Span;
        var crcSize = elf.Is64Bit ? 8 : 4;
        var result = new SymbolVersion[data.Length / ModversionEntrySize];
        for (var i = 0; i < result.Length; i++)
            result[i] = new SymbolVersion(ElfImage.Latin1(VersionName(data, i, crcSize)), elf.ReadUnsigned(data, i * ModversionEntrySize, crcSize));
        return result;
    }

    /// <summary>
    /// The bytes of __versions when it is a whole number of entries; empty otherwise (as
    /// <see cref="ReadVersions"/> then reads none). Valid while the image's source is.
    /// </summary>
    public static ReadOnlyMemory<byte> VersionEntries(ElfImage elf)
    {
        var section = elf.FindSection("__versions");
        if (section is null)
            return ReadOnlyMemory<byte>.Empty;
        var data = elf.SectionMemory(section);
        return data.Length % ModversionEntrySize != 0 ? ReadOnlyMemory<byte>.Empty : data;
    }

    /// <summary>Entry <paramref name="index"/>'s name: up to its NUL (or the entry's end), a leading "." dropped.</summary>
    private static ReadOnlySpan<byte> VersionName(ReadOnlySpan<byte> entries, int index, int crcSize)
    {
        var field = entries.Slice(index * ModversionEntrySize + crcSize, ModversionEntrySize - crcSize);
        var end = field.IndexOf((byte)0);
        var name = end < 0 ? field : field[..end];
        return name.Length > 0 && name[0] == (byte)'.' ? name[1..] : name;
    }

    /// <summary>
    /// What the module needs: every named undefined .symtab symbol (weak ones marked), with the CRC
    /// of its __versions entry; then the __versions entries no symbol named (module_layout and the
    /// like), as kmod lists them.
    /// </summary>
    public static RequiredSymbol[] ReadRequiredSymbols(ElfImage elf, ElfSymbolTable? symbols, SymbolVersion[] versions) =>
        ReadRequiredSymbols(elf, symbols, versions, static (name, crc, weak) => new RequiredSymbol(name, crc, weak));

    /// <summary>The same, each made by <paramref name="make"/> (depmod keeps them as small structs).</summary>
    public static T[] ReadRequiredSymbols<T>(ElfImage elf, ElfSymbolTable? symbols, SymbolVersion[] versions, Func<string, ulong?, bool, T> make)
    {
        if (symbols is null)
            return [];
        var byName = new Dictionary<string, int>(versions.Length, StringComparer.Ordinal);
        for (var i = 0; i < versions.Length; i++)
            byName.TryAdd(versions[i].Name, i);
        // Looked up by the name's characters: a symbol with a __versions entry (nearly every one, with
        // modversions) takes that entry's string instead of making its own, which halves what
        // reading a module allocates.
        var bySpan = byName.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> chars = stackalloc char[256];
        var visited = new bool[versions.Length];
        var sparc = elf.Machine is 2 or 43; // STT_REGISTER symbols are not really undefined there
        var list = new ArrayBuilder<T>(64);
        for (var i = 1; i < symbols.Count; i++)
        {
            var s = symbols[i];
            if (!s.IsUndefined || !s.HasName || (sparc && s.Type == 13))
                continue;
            var bytes = s.Name;
            string? name = null;
            ulong? crc = null;
            if (bytes.Length <= chars.Length)
            {
                var latin1 = chars[..bytes.Length];
                for (var k = 0; k < bytes.Length; k++)
                    latin1[k] = (char)bytes[k];
                if (bySpan.TryGetValue(latin1, out var known, out var v))
                {
                    name = known;
                    visited[v] = true;
                    crc = versions[v].Crc;
                }
            }
            else if (byName.TryGetValue(name = ElfImage.Latin1(bytes), out var v))
            {
                visited[v] = true;
                crc = versions[v].Crc;
            }
            list.Add(make(name ?? ElfImage.Latin1(bytes), crc, s.IsWeak));
        }
        for (var i = 0; i < versions.Length; i++)
            if (!visited[i])
                list.Add(make(versions[i].Name, versions[i].Crc, false));
        return list.ToArray();
    }

    /// <summary>
    /// How many symbols <see cref="ReadRequiredSymbols(ElfImage, ElfSymbolTable?, SymbolVersion[])"/>
    /// returns, given the entries <see cref="VersionEntries"/> read (empty when that failed, as the
    /// versions are then none), matching names as bytes: no string is made.
    /// </summary>
    public static int CountRequiredSymbols(ElfImage elf, ElfSymbolTable? symbols, ReadOnlySpan<byte> entries)
    {
        if (symbols is null)
            return 0;
        var crcSize = elf.Is64Bit ? 8 : 4;
        var versionCount = entries.Length / ModversionEntrySize;
        // Open addressing over the entries' names; like the dictionary above, the first entry of a
        // name is the one a symbol finds, a later one of the same name is never visited.
        var size = Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)versionCount * 2));
        var mask = size - 1;
        var slots = ArrayPool<int>.Shared.Rent(size);
        var visited = versionCount <= 1024 ? stackalloc bool[versionCount] : new bool[versionCount];
        try
        {
            slots.AsSpan(0, size).Fill(-1);
            for (var v = 0; v < versionCount; v++)
            {
                var name = VersionName(entries, v, crcSize);
                var at = NameHash(name) & mask;
                while (slots[at] >= 0 && !VersionName(entries, slots[at], crcSize).SequenceEqual(name))
                    at = (at + 1) & mask;
                if (slots[at] < 0)
                    slots[at] = v;
            }
            var sparc = elf.Machine is 2 or 43; // STT_REGISTER symbols are not really undefined there
            var count = 0;
            for (var i = 1; i < symbols.Count; i++)
            {
                var s = symbols[i];
                if (!s.IsUndefined || !s.HasName || (sparc && s.Type == 13))
                    continue;
                count++;
                if (versionCount == 0)
                    continue;
                var name = s.Name;
                var at = NameHash(name) & mask;
                while (slots[at] >= 0)
                {
                    if (VersionName(entries, slots[at], crcSize).SequenceEqual(name))
                    {
                        visited[slots[at]] = true;
                        break;
                    }
                    at = (at + 1) & mask;
                }
            }
            foreach (var seen in visited)
                if (!seen)
                    count++;
            return count;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(slots);
        }
    }

    private static int NameHash(ReadOnlySpan<byte> name)
    {
        var h = new HashCode();
        h.AddBytes(name);
        return h.ToHashCode() & int.MaxValue;
    }

    /// <summary>
    /// The module name in struct module (.gnu.linkonce.this_module): after "enum module_state
    /// state" and "struct list_head list", so at offset 24 on 64-bit and 12 on 32-bit, a
    /// NUL-terminated string of at most 56 bytes. That layout has not changed since 2.6.
    /// </summary>
    public static string? ReadInternalName(ElfImage elf)
    {
        var section = elf.FindSection(".gnu.linkonce.this_module");
        if (section is null || section.Type == ElfSection.ShtNoBits)
            return null;
        var data = elf.SectionData(section);
        var at = elf.Is64Bit ? 24 : 12;
        const int moduleNameLength = 56; // MODULE_NAME_LEN on 64-bit
        if (data.Length < at + 1)
            return null;
        var field = data.Slice(at, Math.Min(moduleNameLength, data.Length - at));
        var end = field.IndexOf((byte)0);
        return end <= 0 ? null : ElfImage.Latin1(field[..end]);
    }
}
