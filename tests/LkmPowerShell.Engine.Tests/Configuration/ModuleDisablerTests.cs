using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.Kernel;
using LkmPowerShell.Engine.Tests.TestKit;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Configuration;

/// <summary>
/// Disabling and enabling on a scratch root whose /lib/modules links to the synthetic tree (read-only),
/// with kmod's own <c>modprobe -n -v</c> as the judge of what modprobe would do.
/// </summary>
public class ModuleDisablerTests
{
    private static (FakeKernelRoot Fake, SyntheticTree Kernel) ScratchRoot()
    {
        var kernel = SyntheticTree.Shared;
        var fake = new FakeKernelRoot().Dir("/etc/modprobe.d").Dir("/lib/modules");
        File.CreateSymbolicLink(fake.Root.Resolve($"/lib/modules/{kernel.Version}"), kernel.ModulesDirectory);
        return (fake, kernel);
    }

    private static string KmodDryRun(FakeKernelRoot fake, SyntheticTree kernel, string module) =>
        KmodOracle.Run("modprobe", ["-n", "-v", "-C", fake.Root.Resolve("/etc/modprobe.d"), "-d", fake.Path, "-S", kernel.Version, module], allowFailure: true);

    [Fact]
    public void DisableMakesKmodRunBinFalseAndEnableRestoresTheLoad()
    {
        var (fake, kernel) = ScratchRoot();
        using var _ = fake;
        Assert.StartsWith("insmod ", KmodDryRun(fake, kernel, "freevxfs"));
        var disabler = new ModuleDisabler(fake.Root);

        var status = disabler.Disable("freevxfs");
        Assert.Equal((DisableChange.Written, true, true), (status.Change, status.Disabled, status.Blacklisted));
        Assert.Equal($"{disabler.FilePath}:3", status.DisabledBy);
        Assert.Equal($"{disabler.FilePath}:4", status.BlacklistedBy);
        Assert.Equal("install /bin/false \n", KmodDryRun(fake, kernel, "freevxfs"));
        Assert.StartsWith("insmod ", KmodDryRun(fake, kernel, "udf")); // only cramfs changed

        var back = disabler.Enable("freevxfs");
        Assert.Equal((DisableChange.Deleted, false, false, null), (back.Change, back.Disabled, back.Blacklisted, back.Note));
        Assert.False(File.Exists(disabler.FilePath));
        Assert.StartsWith("insmod ", KmodDryRun(fake, kernel, "freevxfs"));
    }

    [Fact]
    public void A_site_scored_by_Lynis_chooses_bin_true_and_can_switch_back()
    {
        // Lynis 3.0.x counts dccp/sctp/rds/tipc as disabled only with "install P /bin/true"; CIS writes /bin/false.
        var (fake, kernel) = ScratchRoot();
        using var _ = fake;
        var disabler = new ModuleDisabler(fake.Root);
        var status = disabler.Disable("freevxfs", "/bin/true");
        Assert.Equal((DisableChange.Written, true, true), (status.Change, status.Disabled, status.Blacklisted));
        Assert.Equal("install /bin/true \n", KmodDryRun(fake, kernel, "freevxfs"));
        Assert.Equal("/bin/true", disabler.OwnInstallCommand("freevxfs"));
        Assert.Equal(DisableChange.Unchanged, disabler.Disable("freevxfs", "/bin/true").Change);

        // Asked again with the other command, the module's line is rewritten in place, the others kept.
        disabler.Disable("udf");
        Assert.Equal(DisableChange.Written, disabler.Disable("freevxfs", "/bin/false").Change);
        Assert.Equal(ModuleDisabler.Header + "install freevxfs /bin/false\nblacklist freevxfs\ninstall udf /bin/false\nblacklist udf\n", File.ReadAllText(disabler.FilePath));
        Assert.Equal("install /bin/false \n", KmodDryRun(fake, kernel, "freevxfs"));
        Assert.Equal(["freevxfs", "udf"], disabler.DisabledModules());

        Assert.Equal(DisableChange.Written, disabler.Enable("freevxfs").Change);
        Assert.Null(disabler.OwnInstallCommand("freevxfs"));
        Assert.Throws<ArgumentException>(() => disabler.Disable("cramfs", "/bin/sh -c id"));
        Assert.Equal(["udf"], disabler.DisabledModules());
    }

    [Fact]
    public void SecondDisableChangesNothingAndKeepsTheFileAsItWas()
    {
        using var fake = new FakeKernelRoot();
        var disabler = new ModuleDisabler(fake.Root);
        Assert.True(disabler.Disable("usb-storage").Changed);
        disabler.Disable("sctp");
        var bytes = File.ReadAllBytes(disabler.FilePath);
        var stamp = File.GetLastWriteTimeUtc(disabler.FilePath);
        Assert.Equal(ModuleDisabler.Header + "install usb_storage /bin/false\nblacklist usb_storage\ninstall sctp /bin/false\nblacklist sctp\n",
            File.ReadAllText(disabler.FilePath));

        Assert.False(disabler.Disable("usb_storage").Changed);
        Assert.Equal(DisableChange.Unchanged, disabler.Disable("sctp").Change);
        Assert.Equal(bytes, File.ReadAllBytes(disabler.FilePath));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(disabler.FilePath));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(disabler.FilePath)!, ".*.tmp")); // no temporary file left

        Assert.Equal(DisableChange.Written, disabler.Enable("usb-storage").Change);
        Assert.Equal(["sctp"], disabler.DisabledModules());
        var again = disabler.Enable("usb-storage");
        Assert.Equal(DisableChange.Unchanged, again.Change);
        Assert.False(again.Changed);
        Assert.True(disabler.Enable("sctp").Changed); // the last one: the file is deleted
    }

    [Fact]
    public void ModuleDisabledByAnotherFileIsLeftAloneAndEnableSaysWhoStillDisablesIt()
    {
        using var fake = new FakeKernelRoot()
            .File("/etc/modprobe.d/cis.conf", "install cramfs /bin/true\nblacklist cramfs\nblacklist hfs\n");
        var disabler = new ModuleDisabler(fake.Root);
        var cramfs = disabler.Disable("cramfs");
        Assert.Equal(DisableChange.DisabledElsewhere, cramfs.Change);
        Assert.False(File.Exists(disabler.FilePath));
        Assert.Equal(fake.Root.Resolve("/etc/modprobe.d/cis.conf") + ":1", cramfs.DisabledBy);

        Assert.Equal(DisableChange.Written, disabler.Disable("hfs").Change); // blacklisted only: not enough
        var hfs = disabler.Enable("hfs");
        Assert.Equal((false, true), (hfs.Disabled, hfs.Blacklisted));
        Assert.Contains("still blacklisted by " + fake.Root.Resolve("/etc/modprobe.d/cis.conf") + ":3", hfs.Note);
        Assert.Contains("still disabled by", disabler.Enable("cramfs").Note);
    }

    [Fact]
    public void AnEarlierInstallCommandIsReportedBecauseKmodRunsIt()
    {
        using var fake = new FakeKernelRoot().File("/etc/modprobe.d/00-aaa.conf", "install udf /sbin/modprobe --ignore-install udf\n");
        var status = new ModuleDisabler(fake.Root).Disable("udf");
        Assert.Equal(DisableChange.Written, status.Change);
        Assert.False(status.Disabled);
        Assert.Contains("00-aaa.conf:1 comes first", status.Note);
    }

    [Fact]
    public void AFileNotWrittenByUsIsNeverOverwritten()
    {
        using var fake = new FakeKernelRoot().File($"/etc/modprobe.d/{ModuleDisabler.FileName}", "blacklist mine\n");
        var disabler = new ModuleDisabler(fake.Root);
        var e = Assert.Throws<IOException>(() => disabler.Disable("cramfs"));
        Assert.Contains("not written by LkmPowerShell", e.Message);
        Assert.Equal("blacklist mine\n", File.ReadAllText(disabler.FilePath));
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a b")]
    [InlineData("cramfs\ninstall x")]
    public void NamesThatAreNotModuleNamesAreRefused(string name)
    {
        using var fake = new FakeKernelRoot();
        Assert.Throws<InvalidModuleNameException>(() => new ModuleDisabler(fake.Root).Disable(name));
        Assert.False(File.Exists(new ModuleDisabler(fake.Root).FilePath));
    }
}
