using System.Buffers.Binary;
using LkmPowerShell.Engine.Elf;
using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>A module with a broken symbol table still shows what it claims to be, as kmod's modinfo shows it.</summary>
public sealed class DamagedModuleTests
{
    [Fact]
    public void BrokenSymtabKeepsModinfo()
    {
        var bytes = HostileRoot.Module("damaged");
        var symtab = ElfImage.Parse(bytes, "damaged.ko").FindSection(".symtab")!;
        // sh_link (the symbol table's string table) at byte 40 of a 64-bit section header: no such section.
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)symtab.HeaderOffset + 40), 0xFFFF);

        var info = ModuleFileReader.Parse(bytes, "damaged.ko", bytes.Length);

        Assert.Equal("test module damaged", info.GetValue("description"));
        Assert.Equal("GPL", info.GetValue("license"));
        Assert.Contains("links to string table 65535", info.SymbolProblem);
        Assert.Empty(info.RequiredSymbols);
    }

    [Fact]
    public void IntactModuleHasNoSymbolProblem() =>
        Assert.Null(ModuleFileReader.Parse(HostileRoot.Module("fine"), "fine.ko", 0).SymbolProblem);
}
