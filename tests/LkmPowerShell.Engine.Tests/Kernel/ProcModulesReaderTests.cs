using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Kernel;

public class ProcModulesReaderTests
{
    // Lines in the kernel's own format (kernel/module/procfs.c), as seen in the 6.1 guest and on
    // distribution kernels.
    private const string Sample =
        "msdos 20480 0 - Live 0xffffffffc0a1b000\n" +
        "fat 90112 1 msdos, Live 0xffffffffc09f0000\n" +
        "hello 16384 0 - Live 0xffffffffc0a00000 (OE)\n" +
        "going 16384 0 - Unloading 0xffffffffc0a02000 (OE-)\n" +
        "coming 16384 0 - Loading 0xffffffffc0a04000 (+)\n" +
        "perm 12288 2 a,b,[permanent], Live 0x0000000000000000\n";

    [Fact]
    public void ParsesEveryField()
    {
        var e = ProcModulesReader.Parse(Sample);
        Assert.Equal(["msdos", "fat", "hello", "going", "coming", "perm"], e.Select(x => x.Name));

        Assert.Equal(20480, e[0].Size);
        Assert.Equal(0, e[0].ReferenceCount);
        Assert.Empty(e[0].Holders);
        Assert.Equal(ModuleState.Live, e[0].State);
        Assert.Equal(0xffffffffc0a1b000UL, e[0].Address);
        Assert.Equal("", e[0].Taints);

        Assert.Equal(["msdos"], e[1].Holders);
        Assert.Equal(1, e[1].ReferenceCount);

        Assert.Equal("OE", e[2].Taints);
        Assert.Equal(ModuleState.Unloading, e[3].State);
        Assert.Equal("OE", e[3].Taints);      // the '-' is the state, not a taint
        Assert.Equal(ModuleState.Loading, e[4].State);
        Assert.Equal("", e[4].Taints);

        Assert.True(e[5].IsPermanent);
        Assert.Equal(["a", "b"], e[5].Holders);
        Assert.Null(e[5].Address);            // 0 means hidden from this reader, never a real address
        Assert.False(e[0].IsPermanent);
    }

    [Fact]
    public void KernelWithoutModuleUnloadPrintsDashes()
    {
        var e = ProcModulesReader.ParseLine("fat 90112 - - Live 0xffffffffc09f0000");
        Assert.Null(e.ReferenceCount);
        Assert.Empty(e.Holders);
    }

    [Fact]
    public void EmptyFileIsNoModules() => Assert.Empty(ProcModulesReader.Parse(""));

    [Theory]
    [InlineData("fat 90112 1 msdos, Live")]                          // too few fields
    [InlineData("fat big 1 msdos, Live 0xffffffffc09f0000")]          // size
    [InlineData("fat 90112 x msdos, Live 0xffffffffc09f0000")]        // refcount
    [InlineData("fat 90112 1 msdos, Dead 0xffffffffc09f0000")]        // state
    [InlineData("fat 90112 1 msdos, Live 0xzz")]                      // address
    [InlineData("fat 90112 1 msdos, Live 0xffffffffc09f0000 OE")]     // taints without ()
    [InlineData("fat 90112 1 msdos, Live 0x1 (O) extra")]             // too many
    public void MalformedLineNamesFileAndOffset(string bad)
    {
        var text = "msdos 20480 0 - Live 0xffffffffc0a1b000\n" + bad + "\n";
        var ex = Assert.Throws<ModuleFormatException>(() => ProcModulesReader.Parse(text, "/x/proc/modules"));
        Assert.Equal("/x/proc/modules", ex.FilePath);
        Assert.Equal(40, ex.Offset);
        Assert.Contains("fat", ex.Message);
    }

    [Fact]
    public void ReadsUnderTheRootAndFindsByEitherSpelling()
    {
        using var root = new FakeKernelRoot().File("/proc/modules", Sample);
        var reader = new ProcModulesReader(root.Root);
        Assert.True(reader.Exists);
        Assert.Equal(Path.Join(root.Path, "proc/modules"), reader.Path);
        Assert.Equal(6, reader.Read().Count);
        using var root2 = new FakeKernelRoot().File("/proc/modules", "snd_hda_intel 57344 0 - Live 0xffffffffc0a1b000\n");
        Assert.NotNull(new RunningKernel(root2.Root).GetLoadedModule("snd-hda-intel"));
        Assert.Null(new RunningKernel(root2.Root).GetLoadedModule("fat"));
    }

    [Fact]
    public void MissingFileIsReportedByExists()
    {
        using var root = new FakeKernelRoot();
        var reader = new ProcModulesReader(root.Root);
        Assert.False(reader.Exists);
        Assert.Throws<FileNotFoundException>(reader.Read);
    }
}
