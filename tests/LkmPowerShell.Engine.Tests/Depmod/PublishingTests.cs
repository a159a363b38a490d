using LkmPowerShell.Engine.Depmod;
using Xunit;
using LkmPowerShell.Engine.Tests.TestKit;
using Need = LkmPowerShell.Engine.Tests.TestKit.ModuleWriter.Need;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>
/// Interrupted and concurrent runs: at every step of publishing, a crash (an exception thrown from
/// the step hook, which skips all clean-up past the commit point) or a cancellation leaves each
/// file either entirely old or entirely new, and the next run makes the whole set new.
/// </summary>
public class PublishingTests
{
    private static DepmodTree TreeWithOldIndex(out Dictionary<string, byte[]> oldSet, out Dictionary<string, byte[]> newSet)
    {
        var tree = new DepmodTree();
        tree.Synthetic("kernel/fs/fat/fat.ko").Synthetic("kernel/fs/fat/msdos.ko");
        tree.RunEngine();
        oldSet = Snapshot(tree.OutputDirectory);
        // Change the tree so that every output file changes.
        tree.Write("modules.builtin", "kernel/fs/ext4/ext4.ko\n")
            .Write("modules.builtin.modinfo", "ext4.alias=fs-ext4\0")
            .Write("kernel/x.ko", ModuleWriter.Build("x", [("x_sym", 9)], [new Need("fat_time_unix2fat")],
                ["alias=x-alias", "softdep=pre: fat", "weakdep=msdos", "alias=devname:xdev", "alias=char-major-10-99"]));
        var plan = DepmodRunner.Compute(new DepmodOptions { Root = new SystemRoot(tree.Root), KernelVersion = tree.Version, OutputRoot = tree.OutputRoot, UseCache = false });
        newSet = plan.Files.ToDictionary(f => f.Name, f => f.Content);
        foreach (var (name, content) in newSet)
            Assert.False(oldSet[name].AsSpan().SequenceEqual(content), $"{name} does not change");
        return tree;
    }

    private static Dictionary<string, byte[]> Snapshot(string directory) =>
        Directory.GetFiles(directory, "modules.*").Where(f => !Path.GetFileName(f).StartsWith("modules.lkmpowershell", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private sealed class Crash(string step) : Exception(step);

    public static IEnumerable<object[]> Steps()
    {
        string[] names = ["modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin", "modules.softdep", "modules.weakdep",
            "modules.symbols", "modules.symbols.bin", "modules.builtin.bin", "modules.builtin.alias.bin", "modules.devname"];
        yield return ["locked"];
        foreach (var n in names) yield return ["write:" + n];
        yield return ["commit"];
        foreach (var n in names) yield return ["rename:" + n];
        yield return ["renamed"];
    }

    [Theory]
    [MemberData(nameof(Steps))]
    public void CrashAtAnyStepLeavesWholeFilesAndTheNextRunFinishes(string step)
    {
        using var tree = TreeWithOldIndex(out var oldSet, out var newSet);
        Assert.Throws<Crash>(() => tree.RunEngine(o => o with { StepHook = s => { if (s == step) throw new Crash(s); } }));
        var after = Snapshot(tree.OutputDirectory);
        var beforeCommit = step.StartsWith("write:", StringComparison.Ordinal) || step is "locked" or "commit";
        foreach (var (name, content) in after)
        {
            var isOld = oldSet.TryGetValue(name, out var old) && old.AsSpan().SequenceEqual(content);
            var isNew = newSet[name].AsSpan().SequenceEqual(content);
            Assert.True(isOld || isNew, $"{name} is neither the old nor the new file after a crash at {step}");
            if (beforeCommit) Assert.True(isOld || !oldSet.ContainsKey(name), $"{name} changed before the commit point ({step})");
        }
        if (beforeCommit)
            Assert.Empty(Directory.GetFiles(tree.OutputDirectory, ".*.tmp"));

        // The next run (or any later one) completes the set and leaves nothing behind.
        tree.RunEngine();
        Assert.Equal(newSet.Keys.Order(), Snapshot(tree.OutputDirectory).Keys.Order());
        foreach (var (name, content) in Snapshot(tree.OutputDirectory))
            Assert.Equal(newSet[name], content);
        Assert.Empty(Directory.GetFiles(tree.OutputDirectory, ".*"));
        Assert.False(File.Exists(Path.Combine(tree.OutputDirectory, IndexPublisher.JournalFileName)));
    }

    [Fact]
    public void JournalAloneIsRolledForward()
    {
        using var tree = TreeWithOldIndex(out _, out var newSet);
        Assert.Throws<Crash>(() => tree.RunEngine(o => o with { StepHook = s => { if (s == "rename:modules.alias") throw new Crash(s); } }));
        Assert.True(File.Exists(Path.Combine(tree.OutputDirectory, IndexPublisher.JournalFileName)));
        IndexPublisher.Recover(tree.OutputDirectory);
        foreach (var (name, content) in Snapshot(tree.OutputDirectory))
            Assert.Equal(newSet[name], content);
    }

    [Fact]
    public void CancellationAtEachStageChangesNothing()
    {
        using var tree = TreeWithOldIndex(out var oldSet, out _);
        foreach (var stage in new[] { DepmodStage.Scanning, DepmodStage.Reading, DepmodStage.Resolving, DepmodStage.Writing })
        {
            using var cancel = new CancellationTokenSource();
            var progress = new SynchronousProgress(p => { if (p.Stage == stage) cancel.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => DepmodRunner.Run(new DepmodOptions
            {
                Root = new SystemRoot(tree.Root), KernelVersion = tree.Version, OutputRoot = tree.OutputRoot, UseCache = false, Progress = progress,
            }, cancel.Token));
            var after = Snapshot(tree.OutputDirectory);
            Assert.Equal(oldSet.Keys.Order(), after.Keys.Order());
            foreach (var (name, content) in after)
                Assert.Equal(oldSet[name], content);
            Assert.Empty(Directory.GetFiles(tree.OutputDirectory, ".*.tmp"));
        }
    }

    [Fact]
    public async Task ConcurrentRunsDoNotCorruptEachOther()
    {
        using var tree = TreeWithOldIndex(out _, out var newSet);
        var runs = Enumerable.Range(0, 6).Select(_ => Task.Run(() => tree.RunEngine())).ToArray();
        await Task.WhenAll(runs);
        foreach (var (name, content) in Snapshot(tree.OutputDirectory))
            Assert.Equal(newSet[name], content);
        Assert.Empty(Directory.GetFiles(tree.OutputDirectory, ".*"));
    }

    [Fact]
    public void FilesAreWrittenWithKmodsMode()
    {
        using var tree = new DepmodTree();
        tree.Synthetic("kernel/fs/fat/fat.ko");
        var result = tree.RunEngine();
        if (OperatingSystem.IsWindows()) return;
        foreach (var file in result.FilesWritten)
        {
            var mode = File.GetUnixFileMode(file);
            Assert.False(mode.HasFlag(UnixFileMode.GroupWrite) || mode.HasFlag(UnixFileMode.OtherWrite) || mode.HasFlag(UnixFileMode.UserExecute), $"{file}: {mode}");
            Assert.True(mode.HasFlag(UnixFileMode.UserWrite) && mode.HasFlag(UnixFileMode.OtherRead), $"{file}: {mode}");
        }
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; the tests need the callback before the run goes on.</summary>
    private sealed class SynchronousProgress(Action<DepmodProgress> report) : IProgress<DepmodProgress>
    {
        public void Report(DepmodProgress value) => report(value);
    }
}
