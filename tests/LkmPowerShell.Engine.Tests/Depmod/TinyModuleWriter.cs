using System.Buffers.Binary;
using System.Text;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>
/// Writes minimal kernel modules for depmod tests: an x86_64 ELF relocatable with .modinfo,
/// .gnu.linkonce.this_module, an optional __versions, and a .symtab holding "__crc_NAME" symbols
/// (absolute, value = CRC) for each export and undefined symbols (global or weak) for each need.
/// That is all kmod's depmod reads, so kmod and the engine index these as they would real ones,
/// and a test can build what the real trees lack: cycles, weak symbols, version mismatches.
/// </summary>
internal static class TinyModuleWriter
{
    public sealed record Need(string Name, bool Weak = false, ulong? Crc = null);

    public static byte[] Build(string name, IEnumerable<(string Name, uint Crc)> exports, IEnumerable<Need> needs, IEnumerable<string> modinfo)
    {
        var shstr = new StringTable();
        var str = new StringTable();
        var modinfoBytes = Encoding.ASCII.GetBytes(string.Concat(modinfo.Select(m => m + "\0")));
        var thisModule = new byte[0x380];
        Encoding.ASCII.GetBytes(name).CopyTo(thisModule, 24);

        var needList = needs.ToList();
        var versions = new MemoryStream();
        foreach (var n in needList.Where(n => n.Crc is not null))
        {
            var entry = new byte[64];
            BinaryPrimitives.WriteUInt64LittleEndian(entry, n.Crc!.Value);
            Encoding.ASCII.GetBytes(n.Name).CopyTo(entry, 8);
            versions.Write(entry);
        }

        var symtab = new MemoryStream();
        symtab.Write(new byte[24]); // the null symbol
        void Symbol(string symbolName, byte info, ushort shndx, ulong value)
        {
            var s = new byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(s, str.Add(symbolName));
            s[4] = info;
            BinaryPrimitives.WriteUInt16LittleEndian(s.AsSpan(6), shndx);
            BinaryPrimitives.WriteUInt64LittleEndian(s.AsSpan(8), value);
            symtab.Write(s);
        }
        foreach (var (exportName, crc) in exports)
            Symbol("__crc_" + exportName, 0x10, 0xFFF1, crc); // STB_GLOBAL, SHN_ABS
        foreach (var n in needList)
            Symbol(n.Name, (byte)((n.Weak ? 2 : 1) << 4), 0, 0);

        var sections = new List<(string Name, uint Type, byte[] Data, uint Link, uint Info, ulong EntSize)>
        {
            (".modinfo", 1, modinfoBytes, 0, 0, 0),
            (".gnu.linkonce.this_module", 1, thisModule, 0, 0, 0),
        };
        if (versions.Length > 0)
            sections.Add(("__versions", 1, versions.ToArray(), 0, 0, 0));
        var symtabIndex = sections.Count + 1;
        sections.Add((".symtab", 2, symtab.ToArray(), (uint)symtabIndex + 1, 1, 24));
        sections.Add((".strtab", 3, str.Bytes, 0, 0, 0));
        var shstrtabIndex = sections.Count + 1;
        foreach (var s in sections) shstr.Add(s.Name);
        shstr.Add(".shstrtab");
        sections.Add((".shstrtab", 3, shstr.Bytes, 0, 0, 0));

        var file = new MemoryStream();
        file.Write(new byte[64]);
        var offsets = new List<long>();
        foreach (var s in sections)
        {
            while (file.Length % 8 != 0) file.WriteByte(0);
            offsets.Add(file.Length);
            file.Write(s.Data);
        }
        while (file.Length % 8 != 0) file.WriteByte(0);
        var shoff = file.Length;
        file.Write(new byte[64]); // section 0
        for (var i = 0; i < sections.Count; i++)
        {
            var s = sections[i];
            var h = new byte[64];
            BinaryPrimitives.WriteUInt32LittleEndian(h, shstr.Add(s.Name));
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), s.Type);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(8), s.Name is ".modinfo" or ".gnu.linkonce.this_module" or "__versions" ? 2UL : 0); // SHF_ALLOC
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(24), (ulong)offsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(32), (ulong)s.Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(40), s.Link);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(44), s.Info);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(48), 8);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(56), s.EntSize);
            file.Write(h);
        }
        var bytes = file.ToArray();
        bytes[0] = 0x7F; bytes[1] = (byte)'E'; bytes[2] = (byte)'L'; bytes[3] = (byte)'F';
        bytes[4] = 2; bytes[5] = 1; bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(16), 1);   // ET_REL
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(18), 62);  // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(40), (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(52), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(58), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(60), (ushort)(sections.Count + 1));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(62), (ushort)shstrtabIndex);
        return bytes;
    }

    private sealed class StringTable
    {
        private readonly List<byte> _bytes = [0];
        private readonly Dictionary<string, uint> _at = new() { [""] = 0 };

        public uint Add(string s)
        {
            if (_at.TryGetValue(s, out var at)) return at;
            at = (uint)_bytes.Count;
            _bytes.AddRange(Encoding.ASCII.GetBytes(s + "\0"));
            _at[s] = at;
            return at;
        }

        public byte[] Bytes => [.. _bytes];
    }
}
