using LkmPowerShell.Engine.Depmod;
using Xunit;
using LkmPowerShell.Engine.Tests.TestKit;
using Need = LkmPowerShell.Engine.Tests.TestKit.ModuleWriter.Need;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>
/// Small trees of Debian's real modules (copied from the 6.1 fixture) that exercise what the whole
/// trees do not: depmod.d, duplicates, modules.order, devnames, external folders, a damaged file.
/// Each runs kmod 30's depmod and the engine on the same files and compares every output byte.
/// SmallTreeTests does the same with modules the test kit writes, without the fixtures.
/// </summary>
[Trait("Layer", "Oracle")]
public class RealModuleTreeTests
{
    private static readonly string[] RealModules =
    [
        "kernel/fs/fat/fat.ko", "kernel/fs/fat/vfat.ko", "kernel/fs/fat/msdos.ko", "kernel/fs/fuse/fuse.ko",
        "kernel/fs/fuse/cuse.ko", "kernel/drivers/net/dummy.ko", "kernel/fs/ext4/ext4.ko", "kernel/fs/jbd2/jbd2.ko",
        "kernel/fs/mbcache.ko", "kernel/lib/crc16.ko", "kernel/drivers/block/loop.ko",
    ];

    private static DepmodTree RealTree()
    {
        var tree = new DepmodTree().WithBuiltins();
        foreach (var m in RealModules) tree.Copy(m);
        return tree;
    }

    [Fact]
    public void RealModulesWithSoftdepsDevnamesAndModulesOrder()
    {
        using var tree = RealTree();
        // A subset in a different order, a line for a missing module, and fat listed twice (v30: the last line counts).
        tree.Write("modules.order", "kernel/fs/fat/fat.ko\nkernel/fs/fuse/cuse.ko\nkernel/fs/nothere.ko\nkernel/fs/fat/msdos.ko\nkernel/fs/ext4/ext4.ko\nkernel/fs/fat/fat.ko\n");
        var (engine, _) = tree.AssertSameAsKmod();
        Assert.Equal(RealModules.Length, engine.ModuleCount);
        Assert.Contains("softdep ext4 pre: crypto-crc32c", tree.EngineFile("modules.softdep"));
        Assert.Contains("cuse cuse c10:203", tree.EngineFile("modules.devname"));
        Assert.StartsWith("kernel/fs/fuse/cuse.ko:", tree.EngineFile("modules.dep"));
    }

    [Fact]
    public void ModulesOrderWithoutFinalNewlineIsIgnoredAsKmodDoes()
    {
        using var tree = RealTree();
        tree.Write("modules.order", "kernel/fs/fat/msdos.ko\nkernel/fs/fat/fat.ko");
        var (engine, stderr) = tree.AssertSameAsKmod();
        Assert.Contains("corrupted", stderr);
        Assert.Contains(engine.Warnings, w => w.Kind == DepmodWarningKind.InputFile && w.Message.Contains("corrupted"));
    }

    [Fact]
    public void DuplicatesUpdatesWinAndTiesKeepTheFirstFound()
    {
        using var tree = RealTree();
        tree.Copy("kernel/fs/fat/fat.ko", "updates/fat.ko")             // updates/ beats kernel/
            .Copy("kernel/fs/fat/msdos.ko", "extra/msdos.ko")           // extra/ ties with kernel/: readdir order decides
            .Copy("kernel/fs/fat/vfat.ko", "updates/sub/vfat.ko")
            .Copy("kernel/drivers/net/dummy.ko", "extra/deep/dummy.ko")
            .Copy("kernel/lib/crc16.ko", "build/crc16.ko")              // build/ and source/ are never searched
            .Copy("kernel/fs/mbcache.ko", "source/x/mbcache.ko");
        tree.AssertSameAsKmod();
        var dep = tree.EngineFile("modules.dep");
        Assert.Contains("updates/fat.ko:", dep);
        Assert.Contains("updates/sub/vfat.ko: updates/fat.ko", dep);
        Assert.DoesNotContain("build/", dep);
        Assert.DoesNotContain("source/", dep);
    }

    [Fact]
    public void DepmodDotDSearchOverrideExcludeAndContinuation()
    {
        using var tree = RealTree();
        tree.Copy("kernel/fs/fat/fat.ko", "updates/fat.ko")
            .Copy("kernel/fs/fat/fat.ko", "extra/fat.ko")
            .Copy("kernel/fs/fat/msdos.ko", "extra/msdos.ko")
            .Copy("kernel/fs/fat/msdos.ko", "updates/msdos.ko")
            .Copy("kernel/fs/fuse/fuse.ko", "vendor/fuse.ko")
            .Copy("kernel/fs/fuse/cuse.ko", "skipme/cuse.ko")
            .Config("10-search.conf", "# extra first, then built-in, then updates\nsearch extra \\\n  built-in updates\n")
            .Config("20-override.conf", "override msdos * updates\noverride fuse 6\\.1\\..* vendor\noverride loop 5\\..* nowhere\n")
            .Config("30-exclude.conf", "exclude skipme\nbogus line here\n")
            .Config("ignored.txt", "search updates\n");
        var (engine, stderr) = tree.AssertSameAsKmod();
        var dep = tree.EngineFile("modules.dep");
        Assert.Contains("extra/fat.ko:", dep);          // search extra before built-in before updates
        Assert.Contains("updates/msdos.ko: extra/fat.ko", dep); // override beats search
        Assert.Contains("vendor/fuse.ko:", dep);
        Assert.DoesNotContain("skipme", dep);
        Assert.Contains("bogus", stderr);
        Assert.Contains(engine.Warnings, w => w.Kind == DepmodWarningKind.Configuration && w.Message.Contains("bogus"));
    }

    [Fact]
    public void ConfigFilesByNameFirstFolderWins()
    {
        using var tree = RealTree();
        tree.Copy("kernel/fs/fat/fat.ko", "updates/fat.ko").Copy("kernel/fs/fat/fat.ko", "extra/fat.ko");
        var second = Path.Combine(tree.Root, "lib/depmod.d");
        Directory.CreateDirectory(second);
        File.WriteAllText(Path.Combine(second, "a.conf"), "search extra built-in\n");   // shadowed by etc's a.conf
        File.WriteAllText(Path.Combine(second, "b.conf"), "exclude nothing\n");
        tree.Config("a.conf", "search updates built-in\n");
        var engine = tree.RunEngine(o => o with { ConfigPaths = [tree.ConfigDirectory, second] });
        var (code, stderr) = tree.RunKmod("-C", second);
        Assert.True(code == 0, stderr);
        foreach (var name in FullTreeTests.KmodFiles)
            FullTreeTests.AssertSameBytes(Path.Combine(tree.ModulesDirectory, name), Path.Combine(tree.OutputDirectory, name));
        Assert.Contains("updates/fat.ko:", tree.EngineFile("modules.dep"));
        Assert.Equal(RealModules.Length, engine.ModuleCount);
    }

    [Fact]
    public void ExternalFolders()
    {
        using var tree = RealTree();
        // kmod 30 reads external folders from the host even with -b; the engine reads them under the
        // root, as if chrooted (a link out of the root is not followed). The same files at the host
        // path and at ROOT/<host path> make both read the same bytes.
        var external = Path.Combine(tree.Root, "..", "ext-modules");
        external = Path.GetFullPath(external);
        Directory.CreateDirectory(external);
        File.Copy(Path.Combine(KernelFixtures.Plain.ModulesDirectory, "kernel/fs/fat/fat.ko"), Path.Combine(external, "fat.ko"));
        File.Copy(Path.Combine(KernelFixtures.Plain.ModulesDirectory, "kernel/drivers/net/dummy.ko"), Path.Combine(external, "dummy.ko"));
        var inRoot = tree.Root + external;
        Directory.CreateDirectory(inRoot);
        foreach (var file in Directory.EnumerateFiles(external))
            File.Copy(file, Path.Combine(inRoot, Path.GetFileName(file)));
        tree.Config("ext.conf", $"external * {external}\nsearch external built-in\n");
        tree.AssertSameAsKmod();
        var dep = tree.EngineFile("modules.dep");
        Assert.Contains($"{external}/fat.ko:", dep);
        Assert.Contains($"kernel/fs/fat/msdos.ko: {external}/fat.ko", dep);
    }

    [Fact]
    public void DamagedModuleIsAWarningAndListedLikeKmodDoes()
    {
        using var tree = RealTree();
        var good = File.ReadAllBytes(Path.Combine(KernelFixtures.Plain.ModulesDirectory, "kernel/drivers/net/dummy.ko"));
        tree.Write("kernel/broken/truncated.ko", good[..5000])
            .Write("kernel/broken/empty.ko", [])
            .Write("kernel/broken/text.ko", "this is not a module\n")
            .Write("kernel/broken/fake.ko.xz", good[..100]); // not xz at all: read as plain ELF, cut short
        var (engine, _) = tree.AssertSameAsKmod();
        var unreadable = engine.Warnings.Where(w => w.Kind == DepmodWarningKind.UnreadableModule).Select(w => Path.GetFileName(w.Module)).Order().ToList();
        Assert.Equal(["empty.ko", "fake.ko.xz", "text.ko", "truncated.ko"], unreadable);
        Assert.Contains("kernel/broken/empty.ko:\n", tree.EngineFile("modules.dep"));
    }

}
