namespace LkmPowerShell.Engine.Elf;

/// <summary>One .symtab entry.</summary>
public readonly record struct ElfSymbol(string Name, ulong Value, byte Info, ushort SectionIndex)
{
    public const ushort SectionUndefined = 0;     // SHN_UNDEF
    public const ushort SectionAbsolute = 0xFFF1; // SHN_ABS

    public const byte BindLocal = 0, BindGlobal = 1, BindWeak = 2;

    public byte Bind => (byte)(Info >> 4);
    public byte Type => (byte)(Info & 0xF);
    public bool IsUndefined => SectionIndex == SectionUndefined;
    public bool IsWeak => Bind == BindWeak;
}
