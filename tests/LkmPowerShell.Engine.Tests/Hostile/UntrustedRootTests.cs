using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.Tests.Depmod;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// Issue 10's hostile inputs against the engine: special files are refused at once (never a
/// hang), reads are bounded, and nothing under an untrusted root reaches outside it. Each test
/// asserts the refusal, a generous time bound (only a hang can break it) and, where a path could
/// escape, that a canary beside the root was neither read nor echoed.
/// </summary>
[Collection(nameof(SafeFileResolutionCollection))]
public sealed class UntrustedRootTests
{
    // ---- FIFOs: every reader refuses them without blocking ----

    [Fact]
    public void ModuleFileFifoIsRefusedAtOnce()
    {
        using var root = new HostileRoot();
        root.Fifo("/tmp/f.ko");
        var e = Within.Throws<FileRefusedException>(() => ModuleFileReader.Read(root.At("/tmp/f.ko")));
        Assert.Equal(FileRefusal.NotRegularFile, e.Reason);
        Assert.Contains("FIFO", e.Message);
    }

    [Fact]
    public void FifoNamedInModulesDepIsRefused()
    {
        using var root = new HostileRoot();
        root.Write($"/lib/modules/{HostileRoot.Version}/modules.dep", "kernel/f.ko:\n").Fifo($"/lib/modules/{HostileRoot.Version}/kernel/f.ko");
        var tree = ModuleDirectory.Open(root.SystemRoot, HostileRoot.Version);
        var module = Assert.Single(tree.Modules());
        var e = Within.Throws<FileRefusedException>(() => ModuleFileReader.Read(module.Path, root.SystemRoot));
        Assert.Equal(FileRefusal.NotRegularFile, e.Reason);
    }

    [Fact]
    public void FifoInModprobeDIsAWarning()
    {
        using var root = new HostileRoot();
        root.Fifo("/etc/modprobe.d/x.conf").Write("/etc/modprobe.d/y.conf", "blacklist pcspkr\n");
        var config = Within.Seconds(() => ModprobeConfig.Load(root.SystemRoot, null, ""));
        Assert.Contains(config.Warnings, w => w.ToString().Contains("x.conf") && w.ToString().Contains("FIFO"));
        Assert.Contains(config.Blacklist, b => b.Module == "pcspkr"); // the other files still count
    }

    [Fact]
    public void FifoProcCmdlineReadsAsEmpty()
    {
        using var root = new HostileRoot();
        root.Fifo("/proc/cmdline");
        Assert.Equal("", Within.Seconds(() => KernelCommandLine.Read(root.SystemRoot)));
    }

    [Fact]
    public void FifoModulesSoftdepIsRefused()
    {
        using var root = new HostileRoot();
        root.Write($"/lib/modules/{HostileRoot.Version}/modules.dep", "").Fifo($"/lib/modules/{HostileRoot.Version}/modules.softdep");
        var tree = ModuleDirectory.Open(root.SystemRoot, HostileRoot.Version);
        var e = Within.Throws<FileRefusedException>(() => tree.SoftDependencies());
        Assert.Equal(FileRefusal.NotRegularFile, e.Reason);
    }

    [Fact]
    public void FifoOsreleaseIsNoRelease()
    {
        using var root = new HostileRoot();
        root.Fifo("/proc/sys/kernel/osrelease");
        Assert.Null(Within.Seconds(() => new RunningKernel(root.SystemRoot).Release));
    }

    [Fact]
    public void FifoKallsymsIsRefused()
    {
        using var root = new HostileRoot();
        root.Fifo("/proc/kallsyms");
        var e = Within.Throws<FileRefusedException>(() => new KallsymsReader(root.SystemRoot).Read().ToList());
        Assert.Equal(FileRefusal.NotRegularFile, e.Reason);
    }

    [Theory]
    [InlineData("modules.builtin")]
    [InlineData("modules.order")]
    public void DepmodInputFifoIsAWarning(string name)
    {
        using var tree = new DepmodTree();
        tree.Write("kernel/a.ko", HostileRoot.Module("a"));
        Assert.Equal(0, MkFifo.Make(Path.Combine(tree.ModulesDirectory, name)));
        var result = Within.Seconds(() => tree.RunEngine());
        Assert.Contains(result.Warnings, w => w.Message.Contains(name) && w.Message.Contains("FIFO"));
        Assert.Contains("kernel/a.ko:", tree.EngineFile("modules.dep"));
    }

    // ---- /dev/zero behind a symbolic link: refused, never read until memory runs out ----

    [Theory]
    [InlineData("modules.builtin")]
    [InlineData("modules.order")]
    [InlineData("depmod.d")]
    public void DevZeroThroughALinkIsRefused(string which)
    {
        using var tree = new DepmodTree();
        tree.Write("kernel/a.ko", HostileRoot.Module("a"));
        var link = which == "depmod.d" ? Path.Combine(tree.ConfigDirectory, "zero.conf") : Path.Combine(tree.ModulesDirectory, which);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, "/dev/zero");
        // The link is absolute: inside the root it names ROOT/dev/zero, which does not exist; on
        // the host it would be a character device. Either way it is refused, with a warning.
        var result = Within.Seconds(() => tree.RunEngine(o => o with { ConfigPaths = [tree.ConfigDirectory] }));
        Assert.Contains(result.Warnings, w => w.Message.Contains(Path.GetFileName(link)));
        Assert.Contains("kernel/a.ko:", tree.EngineFile("modules.dep"));
    }

    [Fact]
    public void DevZeroGivenDirectlyIsRefusedAsADevice()
    {
        var e = Within.Throws<FileRefusedException>(() => ModuleFileReader.Read("/dev/zero"));
        Assert.Equal(FileRefusal.NotRegularFile, e.Reason);
        Assert.Contains("character device", e.Message);
    }

    [Fact]
    public void OversizedFileNamesItsLimit()
    {
        using var root = new HostileRoot();
        var path = root.At("/etc/modprobe.d/big.conf");
        root.Write("/etc/modprobe.d/big.conf", "");
        using (var f = File.OpenWrite(path)) f.SetLength(FileLimits.ConfigurationFile.MaxBytes + 1);
        var e = Within.Throws<FileRefusedException>(() => SafeFile.ReadAll(path, FileLimits.ConfigurationFile));
        Assert.Equal(FileRefusal.TooLarge, e.Reason);
        Assert.Same(FileLimits.ConfigurationFile, e.Limit);
        Assert.Contains("4,194,304 bytes allowed for a configuration file", e.Message);
    }

    // ---- Containment: nothing a file under the root says reaches outside it ----

    public static TheoryData<bool> Resolutions => new() { false, true };

    [Theory]
    [MemberData(nameof(Resolutions))]
    public void ModulesDepPathsStayInsideTheRoot(bool userSpaceWalk)
    {
        using var _ = SafeFileResolution.Use(userSpaceWalk);
        using var root = new HostileRoot();
        var depth = string.Concat(Enumerable.Repeat("../", 12));
        root.Write($"/lib/modules/{HostileRoot.Version}/modules.dep",
            $"{root.CanaryPath}:\n{depth}{Path.GetRelativePath("/", root.CanaryPath)}:\nkernel/link.ko:\nkernel/rel.ko:\n")
            .Symlink($"/lib/modules/{HostileRoot.Version}/kernel/link.ko", root.CanaryPath)
            .Symlink($"/lib/modules/{HostileRoot.Version}/kernel/rel.ko", "../../../../../shadow");
        var tree = ModuleDirectory.Open(root.SystemRoot, HostileRoot.Version);
        var messages = new List<string?>();
        foreach (var module in tree.Modules())
        {
            Assert.StartsWith(root.Root + "/", module.Path); // lexically inside, whatever the line said
            var e = Within.Throws<Exception>(() => ModuleFileReader.Read(module.Path, root.SystemRoot));
            Assert.True(e is FileNotFoundException, $"{module.IndexPath}: {e.GetType().Name}: {e.Message}");
            messages.Add(e.Message);
        }
        Assert.Equal(4, messages.Count);
        root.AssertCanaryUntouched(messages);
    }

    [Theory]
    [MemberData(nameof(Resolutions))]
    public void ModprobeDLinkOutOfTheRootIsNotFollowed(bool userSpaceWalk)
    {
        using var _ = SafeFileResolution.Use(userSpaceWalk);
        using var root = new HostileRoot();
        root.Symlink("/etc/modprobe.d/s.conf", root.CanaryPath)
            .Symlink("/etc/modprobe.d/r.conf", "../../../shadow");
        var config = Within.Seconds(() => ModprobeConfig.Load(root.SystemRoot, null, ""));
        Assert.Empty(config.Aliases);
        root.AssertCanaryUntouched(config.Warnings.Select(w => w.ToString()));
    }

    [Theory]
    [MemberData(nameof(Resolutions))]
    public void LinksInsideTheRootStillWork(bool userSpaceWalk)
    {
        using var _ = SafeFileResolution.Use(userSpaceWalk);
        using var root = new HostileRoot();
        // An image's own absolute link (Debian's /lib -> usr/lib style) resolves inside the image.
        root.Write("/usr/share/m/real.conf", "blacklist pcspkr\n")
            .Symlink("/etc/modprobe.d/abs.conf", "/usr/share/m/real.conf")
            .Write($"/lib/modules/{HostileRoot.Version}/kernel/a.ko", HostileRoot.Module("a"))
            .Write($"/lib/modules/{HostileRoot.Version}/modules.dep", "/lib/modules/" + HostileRoot.Version + "/kernel/a.ko:\n");
        var config = ModprobeConfig.Load(root.SystemRoot, null, "");
        Assert.Contains(config.Blacklist, b => b.Module == "pcspkr");
        var module = Assert.Single(ModuleDirectory.Open(root.SystemRoot, HostileRoot.Version).Modules());
        Assert.Equal("a", Within.Seconds(() => ModuleFileReader.Read(module.Path, root.SystemRoot)).Name);
    }

    [Theory]
    [MemberData(nameof(Resolutions))]
    public void KallsymsLinkOutOfTheRootIsNotFollowed(bool userSpaceWalk)
    {
        using var _ = SafeFileResolution.Use(userSpaceWalk);
        using var root = new HostileRoot();
        root.Symlink("/proc/kallsyms", root.CanaryPath);
        var e = Within.Throws<FileNotFoundException>(() => new KallsymsReader(root.SystemRoot).Read().ToList());
        root.AssertCanaryUntouched([e.Message]);
    }

    [Fact]
    public void DepmodDoesNotFollowLinksOutOfTheRoot()
    {
        using var tree = new DepmodTree();
        using var root = new HostileRoot(); // for its canary
        tree.Write("kernel/a.ko", HostileRoot.Module("a"));
        File.CreateSymbolicLink(Path.Combine(tree.ModulesDirectory, "modules.builtin"), root.CanaryPath);
        Directory.CreateDirectory(tree.ConfigDirectory);
        File.CreateSymbolicLink(Path.Combine(tree.ConfigDirectory, "s.conf"), root.CanaryPath);
        File.CreateSymbolicLink(Path.Combine(tree.ModulesDirectory, "kernel/evil.ko"), root.CanaryPath);
        var result = Within.Seconds(() => tree.RunEngine(o => o with { ConfigPaths = [tree.ConfigDirectory] }));
        root.AssertCanaryUntouched(result.Warnings.Select(w => w.Message));
    }

    [Fact]
    public void NulInAPathIsNotFound()
    {
        var e = Within.Throws<FileNotFoundException>(() => ModuleFileReader.Read("/tmp/a\0b.ko"));
        Assert.False(e.Message.Contains('\0'), "the message holds a NUL");
    }

    [Fact]
    public void UserSpaceWalkStopsDotDotAtTheRoot()
    {
        Assert.Equal("/r/etc/shadow", SafeFile.ResolveInsideRoot("/r", "lib/modules/../../../../../etc/shadow", "x"));
        Assert.Equal("/r/a", new SystemRoot("/r").Contain("/r/lib/../../../a"));
        Assert.Equal("/r/etc/shadow", new SystemRoot("/r").Contain("/etc/shadow"));
    }
}

internal static class MkFifo
{
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Native([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, uint mode);

    public static int Make(string path, uint mode = 0x1A4) => Native(path, mode);
}

/// <summary>Serialises the tests that switch SafeFile to its user-space walk.</summary>
[CollectionDefinition(nameof(SafeFileResolutionCollection), DisableParallelization = true)]
public sealed class SafeFileResolutionCollection;

internal sealed class SafeFileResolution : IDisposable
{
    private readonly bool _before = SafeFile.ForceUserSpaceResolution;
    private SafeFileResolution(bool walk) => SafeFile.ForceUserSpaceResolution = walk;
    public static SafeFileResolution Use(bool walk) => new(walk);
    public void Dispose() => SafeFile.ForceUserSpaceResolution = _before;
}

/// <summary>The index lock and the cache: nothing that follows a planted link, nothing left in depmod's folder.</summary>
public sealed class LockAndCacheTests
{
    [Fact]
    public void PlantedLockLinkIsNeverFollowed()
    {
        using var tree = new DepmodTree();
        using var outside = new HostileRoot();
        tree.Write("kernel/a.ko", HostileRoot.Module("a"));
        var target = Path.Combine(outside.Outside, "created-by-lock");
        Directory.CreateDirectory(tree.OutputDirectory);
        File.CreateSymbolicLink(Path.Combine(tree.OutputDirectory, "modules.lkmpowershell.lock"), target);
        Within.Seconds(() => tree.RunEngine(o => o with { UseCache = true }));
        Assert.False(File.Exists(target), "the run created the file a planted lock link points at");
        // depmod's folder holds depmod's files only: no lock, no cache, no temporaries, and the link is gone.
        var names = Directory.EnumerateFileSystemEntries(tree.OutputDirectory).Select(Path.GetFileName).ToList();
        Assert.All(FullTreeTests.KmodFiles, k => Assert.Contains(k, names));
        Assert.All(names, n => Assert.True(n!.StartsWith("modules.") && !n.Contains("lkmpowershell"), n));
        Assert.True(File.Exists(DepmodCache.PathFor(new SystemRoot(tree.Root), tree.OutputRoot, tree.Version)));
    }

    [Fact]
    public void HeldLockIsATimeout()
    {
        using var tree = new DepmodTree();
        tree.Write("kernel/a.ko", HostileRoot.Module("a"));
        Directory.CreateDirectory(tree.OutputDirectory);
        using var held = FolderLock.Acquire(tree.OutputDirectory, TimeSpan.Zero, default);
        var e = Within.Throws<TimeoutException>(() => tree.RunEngine(o => o with { LockTimeout = TimeSpan.FromMilliseconds(200) }));
        Assert.Contains("holds a lock on the folder", e.Message);
    }

    [Fact]
    public void CacheIsNotWrittenThroughALinkInTheImage()
    {
        using var tree = new DepmodTree();
        using var outside = new HostileRoot();
        tree.Write("kernel/a.ko", HostileRoot.Module("a"));
        Directory.CreateDirectory(tree.OutputRoot);
        Directory.CreateSymbolicLink(Path.Combine(tree.OutputRoot, "var"), outside.Outside);
        Within.Seconds(() => tree.RunEngine(o => o with { UseCache = true }));
        Assert.Null(DepmodCache.PathFor(new SystemRoot(tree.Root), tree.OutputRoot, tree.Version));
        Assert.False(Directory.Exists(Path.Combine(outside.Outside, "cache")), "the cache followed a link out of the tree");
        Assert.Contains("kernel/a.ko:", tree.EngineFile("modules.dep"));
    }
}

/// <summary>The fuzzing campaign's finding in the kallsyms reader, as a plain test of the error it now gives.</summary>
public sealed class KallsymsFindingTests
{
    [Fact]
    public void OverlongOwnerIsAFormatError()
    {
        using var root = new HostileRoot();
        root.Write("/proc/kallsyms", "ffffffff81000000 T fn\t[" + new string('m', 600) + "]\n");
        var e = Within.Throws<ModuleFormatException>(() => new KallsymsReader(root.SystemRoot).Read().ToList());
        Assert.Contains("owner module's name is longer", e.Message);
    }
}
