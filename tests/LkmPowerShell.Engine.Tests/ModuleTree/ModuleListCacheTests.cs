using LkmPowerShell.Engine.ModuleTree;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleTree;

/// <summary>
/// The module list is kept while modules.dep.bin is the same file, and read again when it is not
/// (replaced by rename, rewritten in place, touched); paths in depmod's form skip containing and
/// still come out exactly as containing makes them.
/// </summary>
public class ModuleListCacheTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("lkm-listcache-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private const string Version = "6.0.0-test";

    private string ModulesDirectory => Path.Combine(_scratch, "lib/modules", Version);

    /// <summary>A tree whose modules.dep.bin lists the given paths, in that order.</summary>
    private void WriteIndex(params string[] paths)
    {
        Directory.CreateDirectory(ModulesDirectory);
        var entries = paths.Select((p, i) => new IndexEntry(ModuleName.FromPath(p), p + ":", (uint)i));
        var temp = Path.Combine(ModulesDirectory, "modules.dep.bin.tmp");
        File.WriteAllBytes(temp, IndexWriter.Write(entries, preOrder: true));
        File.Move(temp, Path.Combine(ModulesDirectory, "modules.dep.bin"), overwrite: true); // as depmod does: a new inode
    }

    private IReadOnlyList<InstalledModule> List() => ModuleDirectory.Open(new SystemRoot(_scratch), Version).Modules();

    [Fact]
    public void KeepsTheListWhileTheIndexIsTheSameFile()
    {
        WriteIndex("kernel/fs/fat/fat.ko", "kernel/fs/fat/msdos.ko");
        var first = List();
        Assert.Equal(["fat", "msdos"], first.Select(m => m.Name));
        Assert.Same(first, List()); // kept: one statx, no reading
    }

    [Fact]
    public void ReadsAgainAfterDepmodReplacedTheIndex()
    {
        WriteIndex("kernel/fs/fat/fat.ko", "kernel/fs/fat/msdos.ko");
        Assert.Equal(2, List().Count);
        WriteIndex("kernel/fs/fat/fat.ko", "kernel/fs/fat/msdos.ko", "kernel/fs/fat/vfat.ko");
        Assert.Equal(["fat", "msdos", "vfat"], List().Select(m => m.Name));
    }

    [Fact]
    public void ReadsAgainAfterTheIndexWasRewrittenInPlaceWithTheSameSize()
    {
        WriteIndex("kernel/fs/fat/fat.ko", "kernel/fs/fat/xaaaa.ko");
        var index = Path.Combine(ModulesDirectory, "modules.dep.bin");
        var before = File.GetLastWriteTimeUtc(index);
        Assert.Equal(["fat", "xaaaa"], List().Select(m => m.Name));
        var other = Path.Combine(_scratch, "other.bin");
        File.WriteAllBytes(other, IndexWriter.Write([new IndexEntry("fat", "kernel/fs/fat/fat.ko:", 0), new IndexEntry("xbbbb", "kernel/fs/fat/xbbbb.ko:", 1)], preOrder: true));
        var bytes = File.ReadAllBytes(other);
        Assert.Equal(new FileInfo(index).Length, bytes.Length);
        using (var stream = new FileStream(index, FileMode.Open, FileAccess.Write)) // the same inode, the same size
            stream.Write(bytes);
        File.SetLastWriteTimeUtc(index, before); // even with its old mtime: the ctime moved
        Assert.Equal(["fat", "xbbbb"], List().Select(m => m.Name));
    }

    [Fact]
    public void ReadsAgainAfterTheIndexWasTouched()
    {
        WriteIndex("kernel/fs/fat/fat.ko");
        var first = List();
        File.SetLastWriteTimeUtc(Path.Combine(ModulesDirectory, "modules.dep.bin"), DateTime.UtcNow.AddSeconds(5));
        var second = List();
        Assert.NotSame(first, second);
        Assert.Equal(first, second);
    }

    [Fact]
    public void ReadsTheTextFileWhenTheIndexIsRemoved()
    {
        WriteIndex("kernel/fs/fat/fat.ko");
        Assert.Single(List());
        File.Delete(Path.Combine(ModulesDirectory, "modules.dep.bin"));
        File.WriteAllText(Path.Combine(ModulesDirectory, "modules.dep"), "kernel/fs/fat/fat.ko:\nkernel/fs/fat/vfat.ko: kernel/fs/fat/fat.ko\n");
        Assert.Equal(["fat", "vfat"], List().Select(m => m.Name));
    }

    /// <summary>Paths that need resolving still go through containing: "..", "." and "//" stay inside the root.</summary>
    [Fact]
    public void ContainsPathsThatAreNotInDepmodsForm()
    {
        WriteIndex("kernel/fs/fat/fat.ko", "../../../../etc/evil.ko", "kernel/./fs//x.ko", "/abs/path.ko");
        var root = new SystemRoot(_scratch);
        var listed = List();
        foreach (var m in listed)
        {
            var joined = m.IndexPath.StartsWith('/') ? m.IndexPath : Path.Join(ModulesDirectory, m.IndexPath);
            Assert.Equal(root.Contain(joined), m.Path);
            Assert.StartsWith(_scratch + "/", m.Path);
        }
        Assert.Equal(Path.Combine(_scratch, "etc/evil.ko"), listed[1].Path);
    }


    [Theory]
    [InlineData("kernel/fs/fat/fat.ko", true)]
    [InlineData("fat.ko", true)]
    [InlineData("", false)]
    [InlineData("/kernel/fat.ko", false)]
    [InlineData("kernel/", false)]
    [InlineData("kernel//fat.ko", false)]
    [InlineData("kernel/./fat.ko", false)]
    [InlineData("kernel/../fat.ko", false)]
    [InlineData("..", false)]
    [InlineData(".", false)]
    [InlineData("..fat.ko", true)]
    [InlineData("kernel/.hidden/fat.ko", true)]
    public void KnowsDepmodsPlainForm(string path, bool plain) => Assert.Equal(plain, InstalledModule.IsPlainRelative(path));
}

/// <summary>The same on Debian's real trees: every path made without containing is the one containing makes.</summary>
[Trait("Layer", "Oracle")]
public class ModuleListCacheOracleTests
{
    /// <summary>Every module of both Debian trees: the path made without containing is the one containing makes.</summary>
    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void PlainPathsComeOutAsContainingMakesThem(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var root = new SystemRoot(kernel.Root);
        var tree = ModuleDirectory.Open(root, kernel.Version);
        var modules = tree.Modules();
        Assert.True(modules.Count > 4000);
        foreach (var m in modules)
            Assert.Equal(root.Contain(Path.Join(tree.Path, m.IndexPath)), m.Path);
    }
}
