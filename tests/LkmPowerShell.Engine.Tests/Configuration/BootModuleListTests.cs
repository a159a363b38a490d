using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Tests.Kernel;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Configuration;

/// <summary>Boot-time module lists, read as systemd-modules-load and Debian's /etc/modules read them.</summary>
public class BootModuleListTests
{
    [Fact]
    public void SameNameInAnEarlierDirectoryWinsAndFilesAreReadByName()
    {
        using var fake = new FakeKernelRoot()
            .File("/usr/lib/modules-load.d/b.conf", "from-usr-lib\n")
            .File("/etc/modules-load.d/b.conf", "# comment\n; also a comment\n\n  from-etc  \n")
            .File("/usr/lib/modules-load.d/a.conf", "first\n")
            .File("/run/modules-load.d/c.conf", "third\n")
            .File("/usr/lib/modules-load.d/not-conf.txt", "never\n");
        var entries = BootModuleList.Read(fake.Root, null, "quiet modules-load=cmd1,cmd2 modules_load=cmd3");
        Assert.Equal(["cmd1", "cmd2", "cmd3", "first", "from-etc", "third"], entries.Select(e => e.Name));
        var etc = entries.Single(e => e.Name == "from-etc");
        Assert.Equal((BootModuleOrigin.ModulesLoadDirectory, fake.Root.Resolve("/etc/modules-load.d/b.conf"), 4), (etc.Origin, etc.Source, etc.Line));
        Assert.Equal(BootModuleOrigin.KernelCommandLine, entries[0].Origin);
        Assert.Null(etc.Installed);
    }

    [Fact]
    public void DebianEtcModulesIsReadOnceEvenWhenLinkedFromModulesLoadD()
    {
        using var fake = new FakeKernelRoot().File("/etc/modules", "# /etc/modules\nloop max_loop=8\nlp\n");
        var alone = BootModuleList.Read(fake.Root, null, "");
        Assert.Equal(["loop", "lp"], alone.Select(e => e.Name));
        Assert.Equal(("max_loop=8", BootModuleOrigin.DebianModulesFile), (alone[0].Parameters, alone[0].Origin));

        fake.Dir("/etc/modules-load.d");
        File.CreateSymbolicLink(fake.Root.Resolve("/etc/modules-load.d/modules.conf"), "../modules");
        var linked = BootModuleList.Read(fake.Root, null, "");
        Assert.Equal(["loop", "lp"], linked.Select(e => e.Name));
        Assert.All(linked, e => Assert.Equal(BootModuleOrigin.ModulesLoadDirectory, e.Origin));
    }

    [Fact]
    public void EntriesSayWhetherTheTargetKernelHasTheModule()
    {
        var kernel = TestKit.SyntheticTree.Shared;
        using var fake = new FakeKernelRoot().File("/etc/modules-load.d/x.conf", "loop\nfs-msdos\nno-such-module\nunix\n");
        // The target kernel's tree is the synthetic one (a link to it from the fake root would be
        // a link out of the root, which reading contains, as it must for an untrusted image).
        var tree = ModuleDirectory.Open(new SystemRoot(kernel.Root), kernel.Version);
        var e = BootModuleList.Read(fake.Root, tree, "").ToDictionary(x => x.Name);
        Assert.Equal((true, "loop"), (e["loop"].Installed, e["loop"].ResolvesTo));
        Assert.Equal((true, "msdos"), (e["fs-msdos"].Installed, e["fs-msdos"].ResolvesTo));
        Assert.Equal((false, null), (e["no-such-module"].Installed, e["no-such-module"].ResolvesTo));
        Assert.Equal((true, "unix (built-in)"), (e["unix"].Installed, e["unix"].ResolvesTo));
    }
}
