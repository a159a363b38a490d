using System.Text;

namespace LkmPowerShell.Engine.Tests.TestKit;

/// <summary>
/// The tests' one writer of kernel-module-shaped ELF relocatable files: either word size and byte
/// order, with .modinfo, .gnu.linkonce.this_module, __versions, __ksymtab_strings, a .data section
/// and a .symtab. That is everything kmod's depmod and modinfo read from a module, so kmod and the
/// engine index these files as they would real ones, and a test can build what no real tree has:
/// ELF32 and big-endian files, cycles, weak symbols, version mismatches, a whole synthetic tree
/// (<see cref="SyntheticTree"/>). <see cref="Build(string, IEnumerable{ValueTuple{string, uint}}, IEnumerable{Need}, IEnumerable{string})"/>
/// is the short form for the common x86_64 module that exports and needs symbols.
/// </summary>
public sealed class ModuleWriter(bool is64 = true, bool bigEndian = false, ushort machine = 62)
{
    /// <summary>A symbol the module needs: undefined (weak or global), with a __versions CRC when given.</summary>
    public sealed record Need(string Name, bool Weak = false, ulong? Crc = null);

    public sealed record Symbol(string Name, ulong Value, byte Info, ushort SectionIndex);

    private readonly List<(string Name, uint Type, byte[] Data, uint Link)> _sections = [];
    private readonly List<Symbol> _symbols = [];

    public List<string> ModInfo { get; } = [];
    public string ModuleName { get; set; } = "test";
    public List<(string Name, ulong Crc)> Versions { get; } = [];
    public List<string> KsymtabStrings { get; } = [];

    /// <summary>Symbol section indexes: 1 .modinfo, 2 .gnu.linkonce.this_module, 3 __versions, 4 __ksymtab_strings, 5 .data (crc table).</summary>
    public const ushort ModinfoIndex = 1, ThisModuleIndex = 2, VersionsIndex = 3, KsymtabStringsIndex = 4, DataIndex = 5;

    /// <summary>SHN_ABS: a symbol whose value is the value itself (how depmod reads a __crc_ symbol's CRC).</summary>
    public const ushort AbsoluteIndex = 0xFFF1;

    public byte[] Data { get; set; } = [];

    public void AddSymbol(string name, ulong value, byte bind, byte type, ushort sectionIndex) =>
        _symbols.Add(new Symbol(name, value, (byte)((bind << 4) | type), sectionIndex));

    /// <summary>An export as depmod finds it: a global, absolute "__crc_NAME" symbol whose value is the CRC.</summary>
    public ModuleWriter Export(string name, uint crc)
    {
        AddSymbol("__crc_" + name, crc, bind: 1, type: 0, AbsoluteIndex);
        return this;
    }

    /// <summary>A need: an undefined symbol (STB_WEAK when weak), and its __versions entry when it has a CRC.</summary>
    public ModuleWriter Require(Need need)
    {
        AddSymbol(need.Name, 0, bind: (byte)(need.Weak ? 2 : 1), type: 0, sectionIndex: 0);
        if (need.Crc is { } crc)
            Versions.Add((need.Name, crc));
        return this;
    }

    /// <summary>An x86_64 module named <paramref name="name"/> with these exports, needs and .modinfo strings ("key=value").</summary>
    public static byte[] Build(string name, IEnumerable<(string Name, uint Crc)> exports, IEnumerable<Need> needs, IEnumerable<string> modinfo)
    {
        var w = new ModuleWriter { ModuleName = name };
        w.ModInfo.AddRange(modinfo);
        foreach (var (exportName, crc) in exports)
            w.Export(exportName, crc);
        foreach (var need in needs)
            w.Require(need);
        return w.Build();
    }

    public byte[] Build()
    {
        var modinfo = Encoding.Latin1.GetBytes(string.Concat(ModInfo.Select(s => s + "\0")));
        var thisModule = new byte[is64 ? 0x380 : 0x200];
        Encoding.ASCII.GetBytes(ModuleName).CopyTo(thisModule, is64 ? 24 : 12);
        var versions = new byte[Versions.Count * 64];
        for (var i = 0; i < Versions.Count; i++)
        {
            WriteWord(versions, i * 64, Versions[i].Crc, is64 ? 8 : 4);
            Encoding.ASCII.GetBytes(Versions[i].Name).CopyTo(versions, i * 64 + (is64 ? 8 : 4));
        }
        var ksym = Encoding.ASCII.GetBytes(string.Concat(KsymtabStrings.Select(s => s + "\0")));

        var strtab = new MemoryStream();
        strtab.WriteByte(0);
        var entrySize = is64 ? 24 : 16;
        var symtab = new byte[(_symbols.Count + 1) * entrySize];
        for (var i = 0; i < _symbols.Count; i++)
        {
            var s = _symbols[i];
            var nameOffset = (uint)strtab.Length;
            strtab.Write(Encoding.ASCII.GetBytes(s.Name + "\0"));
            var at = (i + 1) * entrySize;
            WriteWord(symtab, at, nameOffset, 4);
            if (is64)
            {
                symtab[at + 4] = s.Info;
                WriteWord(symtab, at + 6, s.SectionIndex, 2);
                WriteWord(symtab, at + 8, s.Value, 8);
            }
            else
            {
                WriteWord(symtab, at + 4, s.Value, 4);
                symtab[at + 12] = s.Info;
                WriteWord(symtab, at + 14, s.SectionIndex, 2);
            }
        }

        _sections.Clear();
        _sections.Add((".modinfo", 1, modinfo, 0));
        _sections.Add((".gnu.linkonce.this_module", 1, thisModule, 0));
        _sections.Add(("__versions", 1, versions, 0));
        _sections.Add(("__ksymtab_strings", 1, ksym, 0));
        _sections.Add((".data", 1, Data, 0));
        _sections.Add((".symtab", 2, symtab, 7));
        _sections.Add((".strtab", 3, strtab.ToArray(), 0));
        _sections.Add((".shstrtab", 3, [], 0));

        var shstr = new MemoryStream();
        shstr.WriteByte(0);
        var nameOffsets = new List<uint>();
        foreach (var s in _sections)
        {
            nameOffsets.Add((uint)shstr.Length);
            shstr.Write(Encoding.ASCII.GetBytes(s.Name + "\0"));
        }
        _sections[^1] = (".shstrtab", 3, shstr.ToArray(), 0);

        var headerSize = is64 ? 64 : 52;
        var shentsize = is64 ? 64 : 40;
        var body = new MemoryStream();
        body.Write(new byte[headerSize]);
        var offsets = new List<long>();
        foreach (var s in _sections)
        {
            while (body.Length % 8 != 0) body.WriteByte(0);
            offsets.Add(body.Length);
            body.Write(s.Data);
        }
        while (body.Length % 8 != 0) body.WriteByte(0);
        var shoff = body.Length;
        var shnum = _sections.Count + 1;
        var table = new byte[shnum * shentsize];
        for (var i = 0; i < _sections.Count; i++)
        {
            var at = (i + 1) * shentsize;
            var s = _sections[i];
            var alloc = s.Name is ".modinfo" or "__versions" or ".gnu.linkonce.this_module" ? 2UL : 0; // SHF_ALLOC
            WriteWord(table, at, nameOffsets[i], 4);
            WriteWord(table, at + 4, s.Type, 4);
            if (is64)
            {
                WriteWord(table, at + 8, alloc, 8);
                WriteWord(table, at + 24, (ulong)offsets[i], 8);
                WriteWord(table, at + 32, (ulong)s.Data.Length, 8);
                WriteWord(table, at + 40, s.Link, 4);
                WriteWord(table, at + 44, s.Type == 2 ? 1UL : 0, 4); // sh_info of .symtab: first non-local symbol
                WriteWord(table, at + 48, 8, 8);
                WriteWord(table, at + 56, s.Type == 2 ? 24UL : 0, 8);
            }
            else
            {
                WriteWord(table, at + 8, alloc, 4);
                WriteWord(table, at + 16, (ulong)offsets[i], 4);
                WriteWord(table, at + 20, (ulong)s.Data.Length, 4);
                WriteWord(table, at + 24, s.Link, 4);
                WriteWord(table, at + 28, s.Type == 2 ? 1UL : 0, 4);
                WriteWord(table, at + 32, 8, 4);
                WriteWord(table, at + 36, s.Type == 2 ? 16UL : 0, 4);
            }
        }
        body.Write(table);
        var bytes = body.ToArray();

        "\x7F"u8.CopyTo(bytes);
        "ELF"u8.CopyTo(bytes.AsSpan(1));
        bytes[4] = (byte)(is64 ? 2 : 1);
        bytes[5] = (byte)(bigEndian ? 2 : 1);
        bytes[6] = 1;
        WriteWord(bytes, 16, 1, 2); // ET_REL
        WriteWord(bytes, 18, machine, 2);
        WriteWord(bytes, 20, 1, 4);
        if (is64)
        {
            WriteWord(bytes, 40, (ulong)shoff, 8);
            WriteWord(bytes, 52, 64, 2);
            WriteWord(bytes, 58, 64, 2);
            WriteWord(bytes, 60, (ulong)shnum, 2);
            WriteWord(bytes, 62, (ulong)shnum - 1, 2);
        }
        else
        {
            WriteWord(bytes, 32, (ulong)shoff, 4);
            WriteWord(bytes, 40, 52, 2);
            WriteWord(bytes, 46, 40, 2);
            WriteWord(bytes, 48, (ulong)shnum, 2);
            WriteWord(bytes, 50, (ulong)shnum - 1, 2);
        }
        return bytes;
    }

    private void WriteWord(byte[] into, int at, ulong value, int size)
    {
        for (var b = 0; b < size; b++)
            into[at + b] = (byte)(value >> (bigEndian ? (size - 1 - b) * 8 : b * 8));
    }
}
