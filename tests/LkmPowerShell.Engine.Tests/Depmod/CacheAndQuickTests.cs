using LkmPowerShell.Engine.Depmod;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>The module-facts cache (rebuilds read only changed modules; a damaged cache is ignored) and depmod -A.</summary>
public class CacheAndQuickTests
{
    private static DepmodTree Tree()
    {
        var tree = new DepmodTree().WithBuiltins();
        foreach (var m in new[] { "kernel/fs/fat/fat.ko", "kernel/fs/fat/msdos.ko", "kernel/fs/fat/vfat.ko", "kernel/drivers/net/dummy.ko" })
            tree.Copy(m);
        return tree;
    }

    private static Dictionary<string, byte[]> Files(DepmodTree tree) =>
        FullTreeTests.KmodFiles.ToDictionary(n => n, n => File.ReadAllBytes(Path.Combine(tree.OutputDirectory, n)));

    [Fact]
    public void SecondRunReadsOnlyChangedModules()
    {
        using var tree = Tree();
        var first = tree.RunEngine(o => o with { UseCache = true });
        Assert.Equal(0, first.ModulesFromCache);
        var expected = Files(tree);
        var second = tree.RunEngine(o => o with { UseCache = true });
        Assert.Equal(4, second.ModulesFromCache);
        Assert.Equal(expected, Files(tree));

        // Replacing a file (new inode and ctime, same size and mtime, as a package manager might) is noticed.
        var dummy = Path.Combine(tree.ModulesDirectory, "kernel/drivers/net/dummy.ko");
        var mtime = File.GetLastWriteTimeUtc(dummy);
        File.Copy(dummy, dummy + ".new");
        File.Move(dummy + ".new", dummy, overwrite: true);
        File.SetLastWriteTimeUtc(dummy, mtime);
        var third = tree.RunEngine(o => o with { UseCache = true });
        Assert.Equal(3, third.ModulesFromCache);
        Assert.Equal(expected, Files(tree));
        tree.AssertSameAsKmod(o => o with { UseCache = true });
    }

    [Fact]
    public void DamagedCacheIsIgnoredWithAWarning()
    {
        using var tree = Tree();
        tree.RunEngine(o => o with { UseCache = true });
        var expected = Files(tree);
        var cache = DepmodCache.PathFor(new SystemRoot(tree.Root), tree.OutputRoot, tree.Version)!;
        Assert.StartsWith(tree.OutputRoot + "/var/cache/lkmpowershell/depmod/", cache); // inside the output tree, not beside the index
        var bytes = File.ReadAllBytes(cache);
        foreach (var damage in new Func<byte[], byte[]>[] { b => b[..(b.Length / 2)], b => { var c = (byte[])b.Clone(); c[c.Length / 3] ^= 0x40; return c; }, _ => [], _ => "garbage"u8.ToArray() })
        {
            File.WriteAllBytes(cache, damage(bytes));
            var result = tree.RunEngine(o => o with { UseCache = true });
            Assert.Equal(0, result.ModulesFromCache);
            Assert.Contains(result.Warnings, w => w.Kind == DepmodWarningKind.Cache);
            Assert.Equal(expected, Files(tree));
            bytes = File.ReadAllBytes(cache); // rewritten whole by that run
            Assert.Equal(4, tree.RunEngine(o => o with { UseCache = true }).ModulesFromCache);
        }
    }

    [Fact]
    public void QuickSkipsWhenNothingIsNewer()
    {
        using var tree = Tree();
        Assert.False(tree.RunEngine(o => o with { Quick = true }).Skipped); // no modules.dep yet
        var dep = Path.Combine(tree.OutputDirectory, "modules.dep");
        File.SetLastWriteTimeUtc(dep, DateTime.UtcNow.AddMinutes(1));
        var skipped = tree.RunEngine(o => o with { Quick = true });
        Assert.True(skipped.Skipped);
        Assert.Empty(skipped.FilesWritten);
        File.SetLastWriteTimeUtc(Path.Combine(tree.ModulesDirectory, "kernel/fs/fat/fat.ko"), DateTime.UtcNow.AddMinutes(5));
        Assert.False(tree.RunEngine(o => o with { Quick = true }).Skipped);
    }
}
