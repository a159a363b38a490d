using System.Text;
using LkmPowerShell.Engine.Files;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>The one primitive for writing under an untrusted root: links never lead out, special files are refused, writes are atomic and locked.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class ContainedFolderTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFolderLinkedOutsideIsFollowedInsideTheRootNeverOut(bool userSpaceWalk)
    {
        using var root = new HostileRoot();
        var outside = Directory.CreateDirectory(Path.Combine(root.Outside, "victim")).FullName;
        root.Symlink("/etc/modprobe.d", outside); // absolute: inside the root it names ROOT/<outside>, which is not there
        SafeFile.ForceUserSpaceResolution = userSpaceWalk;
        try
        {
            Assert.Null(ContainedFolder.Open(root.SystemRoot, "/etc/modprobe.d"));
            var e = Assert.ThrowsAny<IOException>(() => ContainedFolder.OpenOrCreate(root.SystemRoot, "/etc/modprobe.d"));
            Assert.Contains(root.At("/etc/modprobe.d"), e.Message);
            Assert.Empty(Directory.EnumerateFileSystemEntries(outside));

            // A link that leaves by "..": contained, it names ROOT/victim.
            File.Delete(root.At("/etc/modprobe.d"));
            Directory.CreateDirectory(Path.Combine(root.Root, "victim"));
            root.Symlink("/etc/modprobe.d", "../../../../../victim");
            using (var folder = ContainedFolder.OpenOrCreate(root.SystemRoot, "/etc/modprobe.d"))
                folder.WriteAtomic("x.conf", "blacklist x\n"u8);
            Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
            Assert.Equal("blacklist x\n", File.ReadAllText(Path.Combine(root.Root, "victim/x.conf")));
        }
        finally
        {
            SafeFile.ForceUserSpaceResolution = false;
        }
        root.AssertCanaryUntouched();
    }

    [Fact]
    public void ALinkWhoseKernelAndContainedResolutionsDifferIsResolvedInsideTheRoot()
    {
        using var root = new HostileRoot();
        // <root>/usr -> a/b/c and <root>/etc/modprobe.d -> /usr/../etc/modprobe.d: the kernel would
        // reach the host's /etc/modprobe.d; inside the root it is ROOT/a/b/etc/modprobe.d.
        Directory.CreateDirectory(Path.Combine(root.Root, "a/b/c"));
        Directory.CreateDirectory(Path.Combine(root.Root, "a/b/etc/modprobe.d"));
        root.Symlink("/usr", "a/b/c");
        root.Symlink("/etc/modprobe.d", "/usr/../etc/modprobe.d");
        using var folder = ContainedFolder.OpenOrCreate(root.SystemRoot, "/etc/modprobe.d");
        folder.WriteAtomic("y.conf", "blacklist y\n"u8);
        Assert.True(File.Exists(Path.Combine(root.Root, "a/b/etc/modprobe.d/y.conf")));
        Assert.False(File.Exists("/etc/modprobe.d/y.conf"));
    }

    [Fact]
    public void FilesInsideAreRegularFilesOnlyNeverLinksFifosOrDevices()
    {
        using var root = new HostileRoot();
        root.Write("/etc/modprobe.d/plain.conf", "ok\n").Fifo("/etc/modprobe.d/fifo.conf")
            .Symlink("/etc/modprobe.d/link.conf", root.CanaryPath).Symlink("/etc/modprobe.d/zero.conf", "/dev/zero");
        using var folder = ContainedFolder.Open(root.SystemRoot, "/etc/modprobe.d")!;
        Assert.Equal("ok\n", Encoding.UTF8.GetString(folder.ReadFile("plain.conf", FileLimits.ConfigurationFile)!));
        Assert.Null(folder.ReadFile("absent.conf", FileLimits.ConfigurationFile));
        foreach (var name in new[] { "fifo.conf", "link.conf", "zero.conf" })
        {
            var e = Within.Throws<FileRefusedException>(() => folder.ReadFile(name, FileLimits.ConfigurationFile));
            Assert.Equal(FileRefusal.NotRegularFile, e.Reason);
            Assert.Contains(folder.PathOf(name), e.Message);
        }
        // Deleting a link deletes the link, never what it points at.
        Assert.True(folder.Delete("link.conf"));
        Assert.True(File.Exists(root.CanaryPath));
        Assert.False(folder.Delete("link.conf"));
        root.AssertCanaryUntouched();
    }

    [Fact]
    public void WriteAtomicReplacesWithMode0644LeavesNoTemporaryAndNamesTheTarget()
    {
        using var root = new HostileRoot();
        using var folder = ContainedFolder.OpenOrCreate(root.SystemRoot, "/etc/modules-load.d");
        folder.WriteAtomic("a.conf", "one\n"u8);
        folder.WriteAtomic("a.conf", "two\n"u8);
        Assert.Equal("two\n", File.ReadAllText(root.At("/etc/modules-load.d/a.conf")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(root.At("/etc/modules-load.d/a.conf")));
        Assert.Equal(["a.conf"], folder.Names());

        Directory.CreateDirectory(root.At("/etc/modules-load.d/dir.conf"));
        var e = Assert.ThrowsAny<IOException>(() => folder.WriteAtomic("dir.conf", "x"u8));
        Assert.Contains(folder.PathOf("dir.conf"), e.Message);
        Assert.DoesNotContain(".tmp", e.Message);
        Assert.Equal(["a.conf", "dir.conf"], folder.Names().Order());
    }

    [Fact]
    public void TemporariesOfTheProjectAreRemovedOthersAreKept()
    {
        using var root = new HostileRoot();
        var guid = Guid.NewGuid().ToString("N");
        root.Write($"/etc/modprobe.d/.00-lkmpowershell-disabled.conf.{guid}.tmp", "half")
            .Write($"/etc/modprobe.d/.dummy.conf.lkmps-{guid}.tmp", "half")
            .Write("/etc/modprobe.d/.someone-else.tmp", "theirs")
            .Write("/etc/modprobe.d/keep.conf", "theirs");
        using var folder = ContainedFolder.Open(root.SystemRoot, "/etc/modprobe.d")!;
        Assert.Equal(2, folder.RemoveTemporaries());
        Assert.Equal([".someone-else.tmp", "keep.conf"], folder.Names().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheLockExcludesAnotherHolderUntilReleased()
    {
        using var root = new HostileRoot();
        using var a = ContainedFolder.OpenOrCreate(root.SystemRoot, "/etc/modprobe.d");
        using var b = ContainedFolder.Open(root.SystemRoot, "/etc/modprobe.d")!;
        using (a.Lock(TimeSpan.FromSeconds(1), "Another run is changing it"))
        {
            var e = Assert.Throws<TimeoutException>(() => b.Lock(TimeSpan.Zero, "Another run is changing it"));
            Assert.Contains("Another run is changing it", e.Message);
            Assert.Contains(root.At("/etc/modprobe.d"), e.Message);
        }
        using (b.Lock(TimeSpan.Zero, "x")) { }
    }

    [Fact]
    public void AFifoOrFileWhereTheFolderBelongsIsRefused()
    {
        using var root = new HostileRoot();
        root.Fifo("/etc/modprobe.d");
        var e = Within.Throws<FileRefusedException>(() => ContainedFolder.Open(root.SystemRoot, "/etc/modprobe.d"));
        Assert.Contains("not a folder", e.Message);
    }
}
