using LkmPowerShell.Engine.Depmod;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>The module-facts cache (rebuilds read only changed modules; a damaged cache is ignored) and depmod -A.</summary>
public class CacheAndQuickTests
{
    private static DepmodTree Tree()
    {
        var tree = new DepmodTree().WithSyntheticBuiltins();
        foreach (var m in new[] { "kernel/fs/fat/fat.ko", "kernel/fs/fat/msdos.ko", "kernel/fs/fat/vfat.ko", "kernel/drivers/net/dummy.ko" })
            tree.Synthetic(m);
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
        var record = Path.Combine(Path.GetDirectoryName(cache)!, DepmodOutputRecord.FileName);
        // Cut short, a bit flipped in the index (just after the 16-byte header), empty, not a cache.
        foreach (var damage in new Func<byte[], byte[]>[] { b => b[..(b.Length / 2)], b => { var c = (byte[])b.Clone(); c[20] ^= 0x40; return c; }, _ => [], _ => "garbage"u8.ToArray() })
        {
            File.WriteAllBytes(cache, damage(bytes));
            File.Delete(record); // else the unchanged outputs would be taken without reading any module
            var result = tree.RunEngine(o => o with { UseCache = true });
            Assert.Equal(0, result.ModulesFromCache);
            Assert.Contains(result.Warnings, w => w.Kind == DepmodWarningKind.Cache);
            Assert.Equal(expected, Files(tree));
            bytes = File.ReadAllBytes(cache); // rewritten whole by that run
            Assert.Equal(4, tree.RunEngine(o => o with { UseCache = true }).ModulesFromCache);
        }
    }

    [Fact]
    public void DamagedEntryCostsOneModule()
    {
        using var tree = Tree();
        tree.RunEngine(o => o with { UseCache = true });
        var expected = Files(tree);
        var cache = DepmodCache.PathFor(new SystemRoot(tree.Root), tree.OutputRoot, tree.Version)!;
        File.Delete(Path.Combine(Path.GetDirectoryName(cache)!, DepmodOutputRecord.FileName));
        // Damage the last module's facts, in place (the facts file must stay the same file).
        var facts = Path.Combine(Path.GetDirectoryName(cache)!, DepmodCache.FactsFileName);
        using (var stream = new FileStream(facts, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Seek(-1, SeekOrigin.End);
            var last = stream.ReadByte();
            stream.Seek(-1, SeekOrigin.End);
            stream.WriteByte((byte)(last ^ 0x01));
        }
        var result = tree.RunEngine(o => o with { UseCache = true });
        Assert.Equal(4, result.ModulesFromCache); // the index is intact: all four were found in it...
        Assert.False(result.OutputsUnchanged);
        Assert.Equal(expected, Files(tree));      // ...and the damaged one was read from its file
        Assert.DoesNotContain(result.Warnings, w => w.Kind == DepmodWarningKind.Cache);

        // A facts file that is not the one the index was written with: the index is ignored.
        File.Copy(facts, facts + ".new");
        File.Move(facts + ".new", facts, overwrite: true);
        var replaced = tree.RunEngine(o => o with { UseCache = true });
        Assert.Equal(0, replaced.ModulesFromCache);
        Assert.Contains(replaced.Warnings, w => w.Kind == DepmodWarningKind.Cache);
        Assert.Equal(expected, Files(tree));
    }

    [Fact]
    public void TouchingAModuleAppendsItsFactsAndTheFactsFileStaysBounded()
    {
        using var tree = Tree();
        tree.RunEngine(o => o with { UseCache = true });
        var expected = Files(tree);
        var cache = DepmodCache.PathFor(new SystemRoot(tree.Root), tree.OutputRoot, tree.Version)!;
        var facts = Path.Combine(Path.GetDirectoryName(cache)!, DepmodCache.FactsFileName);
        var size = new FileInfo(facts).Length;
        var fat = Path.Combine(tree.ModulesDirectory, "kernel/fs/fat/fat.ko"); // the module with the most facts
        for (var i = 1; i <= 6; i++)
        {
            File.SetLastWriteTimeUtc(fat, DateTime.UtcNow.AddSeconds(-i));
            var result = tree.RunEngine(o => o with { UseCache = true });
            Assert.Equal(3, result.ModulesFromCache);
            Assert.True(result.OutputsUnchanged);
            Assert.Equal(expected, Files(tree));
            Assert.True(new FileInfo(facts).Length <= 2 * size + size, $"facts file grew to {new FileInfo(facts).Length} bytes (one full write: {size})");
        }
        Assert.Equal(4, tree.RunEngine(o => o with { UseCache = true }).ModulesFromCache);
    }

    /// <summary>
    /// The files are taken as they are only when nothing they are made from changed: each kind of
    /// change to a module (touched, rewritten in place with the same size and mtime, truncated,
    /// replaced) and to an output file is noticed, and the files always end up as kmod's.
    /// </summary>
    [Fact]
    public void UnchangedOutputsAreReusedOnlyWhileNothingChanged()
    {
        using var tree = Tree();
        var dummy = Path.Combine(tree.ModulesDirectory, "kernel/drivers/net/dummy.ko");
        var original = File.ReadAllBytes(dummy);
        var first = tree.RunEngine(o => o with { UseCache = true });
        Assert.False(first.OutputsUnchanged);
        var expected = Files(tree);

        // Nothing changed: reused, and every file's time stamp renewed as a rewrite would. (Moving
        // a file's time stamp here would change its ctime, and so count as a change by someone else.)
        var stamps = FullTreeTests.KmodFiles.ToDictionary(n => n, n => File.GetLastWriteTimeUtc(Path.Combine(tree.OutputDirectory, n)));
        Thread.Sleep(20);
        var second = tree.RunEngine(o => o with { UseCache = true });
        Assert.True(second.OutputsUnchanged);
        Assert.Equal(4, second.ModulesFromCache);
        Assert.Equal(expected, Files(tree));
        Assert.All(FullTreeTests.KmodFiles, name => Assert.True(File.GetLastWriteTimeUtc(Path.Combine(tree.OutputDirectory, name)) > stamps[name]));

        // Touched: read again, same facts, so the files are reused.
        File.SetLastWriteTimeUtc(dummy, DateTime.UtcNow.AddMinutes(-10));
        var touched = tree.RunEngine(o => o with { UseCache = true });
        Assert.Equal(3, touched.ModulesFromCache);
        Assert.True(touched.OutputsUnchanged);
        Assert.Equal(expected, Files(tree));

        // Rewritten in place with the same size and mtime but another alias: rendered and written again.
        var mtime = File.GetLastWriteTimeUtc(dummy);
        var changed = (byte[])original.Clone();
        var at = changed.AsSpan().IndexOf("alias=rtnl-link-dummy"u8);
        Assert.True(at > 0);
        changed[at + "alias=rtnl-link-dumm".Length] = (byte)'z';
        using (var stream = new FileStream(dummy, FileMode.Open, FileAccess.Write)) stream.Write(changed);
        File.SetLastWriteTimeUtc(dummy, mtime);
        var rewritten = tree.RunEngine(o => o with { UseCache = true });
        Assert.Equal(3, rewritten.ModulesFromCache);
        Assert.False(rewritten.OutputsUnchanged);
        Assert.Contains("alias rtnl-link-dummz dummy\n", tree.EngineFile("modules.alias"));
        tree.AssertSameAsKmod(o => o with { UseCache = true });

        // Truncated: unreadable, so listed without facts, and said so on every run, reused or not.
        File.WriteAllBytes(dummy, original[..(original.Length / 2)]);
        var truncated = tree.RunEngine(o => o with { UseCache = true });
        Assert.False(truncated.OutputsUnchanged);
        Assert.Contains(truncated.Warnings, w => w.Kind == DepmodWarningKind.UnreadableModule && w.Module == dummy);
        Assert.DoesNotContain("dummy", tree.EngineFile("modules.alias"));
        var again = tree.RunEngine(o => o with { UseCache = true });
        Assert.True(again.OutputsUnchanged);
        Assert.Contains(again.Warnings, w => w.Kind == DepmodWarningKind.UnreadableModule && w.Module == dummy);

        // Replaced by the original: back to the first files.
        File.WriteAllBytes(dummy, original);
        Assert.False(tree.RunEngine(o => o with { UseCache = true }).OutputsUnchanged);
        Assert.Equal(expected, Files(tree));
        Assert.True(tree.RunEngine(o => o with { UseCache = true }).OutputsUnchanged);

        // An output file changed by someone else (an edit keeping the size, a deletion): written again.
        var alias = Path.Combine(tree.OutputDirectory, "modules.alias");
        var aliasBytes = File.ReadAllBytes(alias);
        aliasBytes[^2] ^= 0x20;
        File.WriteAllBytes(alias, aliasBytes);
        Assert.False(tree.RunEngine(o => o with { UseCache = true }).OutputsUnchanged);
        Assert.Equal(expected, Files(tree));
        File.Delete(Path.Combine(tree.OutputDirectory, "modules.symbols.bin"));
        Assert.False(tree.RunEngine(o => o with { UseCache = true }).OutputsUnchanged);
        Assert.Equal(expected, Files(tree));

        // Without the cache nothing is reused.
        Assert.False(tree.RunEngine().OutputsUnchanged);
        Assert.Equal(expected, Files(tree));
    }

    /// <summary>
    /// A reused plan reads the files on disk only when asked for, and a file changed between the
    /// check and the publication is not taken as it is: publishing renders it again.
    /// </summary>
    [Fact]
    public void ReusedFilesAreReadWhenAskedAndAFileChangedBeforePublishingIsRenderedAgain()
    {
        using var tree = Tree();
        DepmodOptions Options() => new() { Root = new SystemRoot(tree.Root), KernelVersion = tree.Version, OutputRoot = tree.OutputRoot, UseCache = true };
        DepmodRunner.Run(Options());
        var expected = Files(tree);

        var plan = DepmodRunner.Compute(Options());
        Assert.NotNull(plan.Reuse);
        Assert.Equal(expected, plan.Files.Where(f => expected.ContainsKey(f.Name)).ToDictionary(f => f.Name, f => f.Content));

        // Someone rewrites two files after the check and before the publication.
        plan = DepmodRunner.Compute(Options());
        Assert.NotNull(plan.Reuse);
        File.WriteAllText(Path.Combine(tree.OutputDirectory, "modules.alias"), "# edited\n");
        File.Delete(Path.Combine(tree.OutputDirectory, "modules.dep.bin"));
        var result = DepmodRunner.Publish(plan);
        Assert.False(result.OutputsUnchanged);
        Assert.Equal(expected, Files(tree));
        Assert.True(tree.RunEngine(o => o with { UseCache = true }).OutputsUnchanged);
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
