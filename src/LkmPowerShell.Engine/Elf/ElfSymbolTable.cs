namespace LkmPowerShell.Engine.Elf;

/// <summary>
/// One symbol as it sits in the table: its name still bytes, not even measured until asked for
/// (most symbols of a module are never looked at by name).
/// </summary>
public readonly ref struct RawElfSymbol(ReadOnlySpan<byte> nameAndRest, ulong value, byte info, ushort sectionIndex)
{
    private readonly ReadOnlySpan<byte> _nameAndRest = nameAndRest; // the string table from the name on

    /// <summary>The name's bytes, up to its NUL (or the end of the string table).</summary>
    public ReadOnlySpan<byte> Name
    {
        get
        {
            var end = _nameAndRest.IndexOf((byte)0);
            return end < 0 ? _nameAndRest : _nameAndRest[..end];
        }
    }

    public bool HasName => _nameAndRest.Length > 0 && _nameAndRest[0] != 0;

    /// <summary>Whether the name starts with <paramref name="prefix"/> (which holds no NUL), without measuring it.</summary>
    public bool NameStartsWith(ReadOnlySpan<byte> prefix) => _nameAndRest.StartsWith(prefix);

    public ulong Value { get; } = value;
    public byte Info { get; } = info;
    public ushort SectionIndex { get; } = sectionIndex;
    public byte Bind => (byte)(Info >> 4);
    public byte Type => (byte)(Info & 0xF);
    public bool IsUndefined => SectionIndex == ElfSymbol.SectionUndefined;
    public bool IsWeak => Bind == ElfSymbol.BindWeak;
}

/// <summary>A .symtab and its string table, decoded one symbol at a time (see <see cref="ElfImage.OpenSymbols"/>).</summary>
public sealed class ElfSymbolTable
{
    private readonly ElfImage _elf;
    private readonly ElfSection _symtab;
    private readonly ElfSection _strtab;
    private readonly ReadOnlyMemory<byte> _data;
    private readonly ReadOnlyMemory<byte> _strings;
    private readonly int _entrySize;

    internal ElfSymbolTable(ElfImage elf, ElfSection symtab, ElfSection strtab, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> strings)
    {
        _elf = elf;
        _symtab = symtab;
        _strtab = strtab;
        _data = data;
        _strings = strings;
        _entrySize = elf.Is64Bit ? 24 : 16;
    }

    public int Count => _data.Length / _entrySize;

    /// <summary>Symbol <paramref name="index"/>; a name outside the string table is a <see cref="ModuleFormatException"/>.</summary>
    public RawElfSymbol this[int index]
    {
        get
        {
            var s = _data.Span.Slice(index * _entrySize, _entrySize);
            var r = new ElfImage.EndianReader(_elf.IsBigEndian);
            var nameOffset = r.U32(s, 0);
            ulong value;
            byte info;
            ushort shndx;
            if (_elf.Is64Bit)
            {
                info = s[4];
                shndx = r.U16(s, 6);
                value = r.U64(s, 8);
            }
            else
            {
                value = r.U32(s, 4);
                info = s[12];
                shndx = r.U16(s, 14);
            }
            var strings = _strings.Span;
            if (nameOffset >= (uint)strings.Length)
            {
                if (nameOffset == 0 && strings.Length == 0)
                    return new RawElfSymbol([], value, info, shndx);
                throw new ModuleFormatException(_elf.Path, (long)_symtab.Offset + (long)index * _entrySize,
                    $"symbol {index} names string offset {nameOffset}, beyond the {strings.Length}-byte string table {_elf.Describe(_strtab)}");
            }
            return new RawElfSymbol(strings[(int)nameOffset..], value, info, shndx);
        }
    }
}
