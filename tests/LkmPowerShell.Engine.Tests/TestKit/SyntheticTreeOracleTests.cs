using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.Depmod;
using LkmPowerShell.Engine.Tests.Planner;
using Xunit;

namespace LkmPowerShell.Engine.Tests.TestKit;

/// <summary>
/// Keeps the synthetic tree true: kmod's own depmod writes the same indexes from its files, byte
/// for byte, and kmod's modprobe plans the same loads on it. The hermetic tests trust the tree
/// and the engine's index of it; this is where that trust is earned (it needs kmod, not Debian's
/// trees, but it is a comparison with kmod, so it belongs to the oracle layer).
/// </summary>
[Trait("Layer", "Oracle")]
public class SyntheticTreeOracleTests
{
    [Fact]
    public void KmodsDepmodWritesTheSameIndexes()
    {
        using var tree = new DepmodTree(SyntheticModules.Version);
        SyntheticModules.Write(tree.Root);
        var (engine, stderr) = tree.AssertSameAsKmod();
        Assert.Empty(engine.Warnings);
        Assert.Equal("", stderr);
        Assert.Equal(SyntheticModules.Modules.Count, engine.ModuleCount);
        Assert.Contains("kernel/sound/drivers/snd-dummy.ko: kernel/sound/core/snd-pcm.ko kernel/sound/core/snd-timer.ko kernel/sound/core/snd.ko kernel/sound/soundcore.ko\n",
            tree.KmodFile("modules.dep"));
    }

    [Fact]
    public void KmodsModprobePlansTheSameLoads()
    {
        var synthetic = SyntheticTree.Shared;
        using var dir = new TempConfigDir();
        dir.Write("synthetic.conf", SyntheticModules.ModprobeConfig.TrimEnd('\n'));
        var queries = new List<string>
        {
            "fat", "msdos", "vfat", "fs-msdos", "fs-vfat", "my-fat", "snd-dummy", "snd_hda_intel", "nfsv4", "ext4", "jbd2", "crypto-crc32c", "crc32c",
            "dummy", "loop", "char-major-10-237", "block-major-7-3", "nls_utf8", "nls_cp437", "lkm_params", "symbol:fat_build_inode", "symbol:snd_pcm_new",
            "pci:v00008086d00001C20sv00001234sd00005678bc04sc03i00", "pci:v000010DEd00000001sv00000000sd00000000bc04sc03i00", "net-pf-1", "unix", "zswap",
            "usb-storage", "udf", "no-such-module",
        };
        var mismatches = ShowDependsOracleTests.Compare(synthetic.Root, synthetic.Version, synthetic.Tree, dir.Path, queries, out var nonEmpty);
        Assert.Equal(queries.Count - 1, nonEmpty);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {queries.Count} differ from kmod:\n" + string.Join("\n", mismatches));
    }
}
