using LkmPowerShell.Engine.ModuleTree;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleTree;

/// <summary>
/// Where a root keeps its kernels' module trees: /lib/modules, or the folder asked for (kmod 34's
/// depmod -m, always inside the root), or /usr/lib/modules when only that exists.
/// </summary>
public sealed class ModuleDirectoryLocationTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("lkm-moduledir-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void MakeTree(string moduleDirectory, string version = "1.2.3") =>
        Directory.CreateDirectory(Path.Join(_root, moduleDirectory, version));

    [Fact]
    public void DefaultIsLibModulesEvenWhenNothingIsThere()
    {
        var root = new SystemRoot(_root);
        Assert.Equal("/lib/modules", root.ModuleDirectory);
        Assert.False(root.ModuleDirectoryGiven);
        Assert.Equal(Path.Join(_root, "lib/modules/1.2.3"), root.ModulesDirectory("1.2.3"));
        Assert.Equal("/lib/modules", SystemRoot.Host.ModuleDirectory);
    }

    [Fact]
    public void OnlyUsrLibModulesIsFoundThere()
    {
        MakeTree("usr/lib/modules");
        var root = new SystemRoot(_root);
        Assert.Equal("/usr/lib/modules", root.ModuleDirectory);
        Assert.Equal(["1.2.3"], ModuleDirectory.InstalledKernelVersions(root));
        Assert.Equal(Path.Join(_root, "usr/lib/modules/1.2.3"), ModuleDirectory.Open(root, "1.2.3").Path);
    }

    [Fact]
    public void LibModulesWinsWhenBothExistAndThroughAMergedUsrLink()
    {
        MakeTree("usr/lib/modules");
        // A merged-/usr image: lib -> /usr/lib, an absolute link that must resolve inside the root.
        File.CreateSymbolicLink(Path.Join(_root, "lib"), "/usr/lib");
        var root = new SystemRoot(_root);
        Assert.Equal("/lib/modules", root.ModuleDirectory);
    }

    [Fact]
    public void AnAbsoluteLibLinkNamesTheImagesOwnTreesNotTheHosts()
    {
        // The host has its own /usr/lib/modules (with other versions, or none): never listed here.
        MakeTree("usr/lib/modules", "9.9.9-image-only");
        File.CreateSymbolicLink(Path.Join(_root, "lib"), "/usr/lib");
        var root = new SystemRoot(_root);
        Assert.Equal(["9.9.9-image-only"], ModuleDirectory.InstalledKernelVersions(root));
        var tree = ModuleDirectory.Open(root, "9.9.9-image-only");
        Assert.Equal(Path.Join(_root, "usr/lib/modules/9.9.9-image-only"), tree.Path);
        var missing = Assert.Throws<KernelNotInstalledException>(() => ModuleDirectory.Open(root, "1.0"));
        Assert.Equal(["9.9.9-image-only"], missing.InstalledVersions);
    }

    [Fact]
    public void AGivenFolderIsAlwaysInsideTheRoot()
    {
        MakeTree("kernel-modules");
        foreach (var given in new[] { "kernel-modules", "/kernel-modules", "//kernel-modules/" })
        {
            var root = new SystemRoot(_root, given);
            Assert.Equal("/kernel-modules", root.ModuleDirectory);
            Assert.True(root.ModuleDirectoryGiven);
            Assert.Equal(["1.2.3"], ModuleDirectory.InstalledKernelVersions(root));
        }
        Assert.Equal("/srv/modules/1.2.3", new SystemRoot("/", "srv/modules").ModulesDirectory("1.2.3"));
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("usr/../../x")]
    [InlineData("/")]
    [InlineData("a\0b")]
    public void AFolderThatCouldLeaveTheRootIsRefused(string given)
    {
        Assert.NotNull(SystemRoot.ModuleDirectoryProblem(given));
        Assert.Throws<ArgumentException>(() => new SystemRoot(_root, given));
    }

    [Fact]
    public void AMissingKernelNamesTheOtherUsualFolder()
    {
        MakeTree("usr/lib/modules");
        var e = Assert.Throws<KernelNotInstalledException>(() => ModuleDirectory.Open(new SystemRoot(_root, "/lib/modules"), "1.2.3"));
        Assert.Contains($"{_root}/usr/lib/modules/1.2.3 exists: this root keeps its modules in /usr/lib/modules", e.Message);
    }
}
