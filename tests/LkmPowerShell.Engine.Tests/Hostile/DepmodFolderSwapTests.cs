using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.Tests.Depmod;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// depmod's output and cache folders swapped for links to outside the root while the modules are
/// read (the engine's own progress report is the moment): nothing may be written outside. The
/// output folder was resolved inside the root and held open before the read, so the files go into
/// the folder that was there; the cache folder is opened inside the root when it is written.
/// </summary>
public sealed class DepmodFolderSwapTests
{
    /// <summary>Runs <paramref name="swap"/> once, at the first report of the module reading.</summary>
    private sealed class SwapDuringRead(Action swap) : IProgress<DepmodProgress>
    {
        private int _done;

        public void Report(DepmodProgress value)
        {
            if (value.Stage == DepmodStage.Reading && Interlocked.Exchange(ref _done, 1) == 0)
                swap();
        }
    }

    private static DepmodTree TreeWithModules()
    {
        var tree = new DepmodTree();
        foreach (var name in new[] { "a", "b", "c" })
            tree.Write($"kernel/{name}.ko", HostileRoot.Module(name));
        return tree;
    }

    private static List<string> FilesUnder(string folder) =>
        [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)];

    [Fact]
    public void OutputFolderSwappedForALinkDuringTheReadWritesNothingOutside()
    {
        using var tree = TreeWithModules();
        using var outside = new HostileRoot();
        // What a path-based writer would reach: the same layout outside the root.
        var decoy = Path.Combine(outside.Outside, "decoy");
        Directory.CreateDirectory(Path.Combine(decoy, "modules", tree.Version));
        var lib = Path.Combine(tree.Root, "lib");
        var moved = Path.Combine(tree.Root, "lib.real");
        var swap = new SwapDuringRead(() =>
        {
            Directory.Move(lib, moved);
            Directory.CreateSymbolicLink(lib, decoy);
        });
        Within.Seconds(() => DepmodRunner.Run(new DepmodOptions
        {
            Root = new SystemRoot(tree.Root), KernelVersion = tree.Version, UseCache = false, Progress = swap,
        }));
        Assert.True(Directory.Exists(moved), "the swap happened");
        Assert.Empty(FilesUnder(decoy));
        // Written into the folder that was held: the one moved aside, inside the root.
        Assert.Contains("kernel/a.ko:", File.ReadAllText(Path.Combine(moved, "modules", tree.Version, "modules.dep")));
    }

    [Fact]
    public void CacheFolderSwappedForALinkDuringTheReadWritesNothingOutside()
    {
        using var tree = TreeWithModules();
        using var outside = new HostileRoot();
        var decoy = Path.Combine(outside.Outside, "decoy-var");
        Directory.CreateDirectory(Path.Combine(decoy, "cache", "lkmpowershell", "depmod", tree.Version));
        var var = Path.Combine(tree.Root, "var");
        Directory.CreateDirectory(Path.Combine(var, "cache"));
        var swap = new SwapDuringRead(() =>
        {
            Directory.Move(var, Path.Combine(tree.Root, "var.real"));
            Directory.CreateSymbolicLink(var, decoy);
        });
        var result = Within.Seconds(() => DepmodRunner.Run(new DepmodOptions
        {
            Root = new SystemRoot(tree.Root), KernelVersion = tree.Version, UseCache = true, Progress = swap,
        }));
        Assert.Equal(3, result.ModuleCount);
        Assert.Empty(FilesUnder(decoy));
        Assert.Contains("kernel/a.ko:", File.ReadAllText(Path.Combine(tree.ModulesDirectory, "modules.dep")));
    }

    [Fact]
    public void AFailedWriteNamesTheTargetFileNotTheTemporary()
    {
        using var tree = TreeWithModules();
        // A folder (not empty) where modules.dep.bin goes: the rename over it fails.
        Directory.CreateDirectory(Path.Combine(tree.ModulesDirectory, "modules.dep.bin", "in-the-way"));
        var e = Within.Throws<IOException>(() => DepmodRunner.Run(new DepmodOptions
        {
            Root = new SystemRoot(tree.Root), KernelVersion = tree.Version, UseCache = false,
        }));
        Assert.Contains(Path.Combine(tree.ModulesDirectory, "modules.dep.bin") + ":", e.Message);
        Assert.DoesNotContain(".lkmps-", e.Message);
        Assert.DoesNotContain(".tmp", e.Message);
    }
}
