using LkmPowerShell.Engine.Tests.TestKit;
using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>ELF32 and big-endian modules (no Debian amd64 tree has them): every fact reads the same.</summary>
public class ElfLayoutsTests
{
    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void ReadsEveryWordSizeAndByteOrder(bool is64, bool bigEndian)
    {
        var b = new ModuleWriter(is64, bigEndian, machine: (ushort)(is64 ? 62 : 3))
        {
            ModuleName = "tiny",
            Data = [0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12],
        };
        if (bigEndian)
            b.Data = [0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78];
        b.ModInfo.AddRange(["license=GPL", "depends=fat", "alias=fs-tiny", "parm=level:How loud", "parmtype=level:int", "vermagic=6.1.0 SMP"]);
        b.Versions.Add(("module_layout", 0xAABBCCDD));
        b.Versions.Add(("fat_time_unix2fat", 0x11223344));
        b.KsymtabStrings.Add("tiny_export");
        b.AddSymbol("fat_time_unix2fat", 0, bind: 1, type: 0, sectionIndex: 0);
        b.AddSymbol("maybe_there", 0, bind: 2, type: 0, sectionIndex: 0);
        b.AddSymbol("__crc_tiny_export", 4, bind: 1, type: 0, sectionIndex: ModuleWriter.DataIndex);
        b.AddSymbol("__crc_abs_export", 0xCAFE, bind: 1, type: 0, sectionIndex: 0xFFF1);

        var info = ModuleFileReader.Parse(b.Build(), "/test/tiny.ko", 0);

        Assert.Equal(is64, info.Is64Bit);
        Assert.Equal(bigEndian, info.IsBigEndian);
        Assert.Equal("tiny", info.InternalName);
        Assert.Equal("fat", info.GetValue("depends"));
        Assert.Equal("level:How loud (int)", info.Parameters.Single().ToString());
        Assert.Equal([("module_layout", 0xAABBCCDDUL), ("fat_time_unix2fat", 0x11223344UL)], info.Versions.Select(v => (v.Name, v.Crc)));
        Assert.Equal([("tiny_export", (ulong?)0x12345678UL), ("abs_export", 0xCAFEUL)], info.Exports.Select(e => (e.Name, e.Crc)));
        Assert.Equal(["fat_time_unix2fat", "maybe_there", "module_layout"], info.RequiredSymbols.Select(r => r.Name));
        Assert.Equal([false, true, false], info.RequiredSymbols.Select(r => r.IsWeak));
        Assert.Equal((ulong?)0x11223344UL, info.RequiredSymbols[0].Crc);
    }

    [Fact]
    public void FallsBackToKsymtabStringsWithoutCrcSymbols()
    {
        var b = new ModuleWriter(true, false);
        b.ModInfo.Add("license=GPL");
        b.KsymtabStrings.AddRange(["one", "two", "USB_STORAGE"]);
        b.AddSymbol("needed", 0, 1, 0, 0);
        var info = ModuleFileReader.Parse(b.Build(), "/test/t.ko", 0);
        Assert.Equal(["one", "two", "USB_STORAGE"], info.Exports.Select(e => e.Name));
        Assert.All(info.Exports, e => Assert.Null(e.Crc));
    }
}
