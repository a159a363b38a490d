using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.Kernel;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Configuration;

/// <summary>
/// The configuration as entries against kmod 30's <c>modprobe -c</c>: the same lines in the same
/// order, from synthetic modprobe.d trees and from Debian's trees (whose modules.softdep and alias
/// and symbol indexes modprobe -c dumps too). kmod reads the host's /proc/cmdline whatever -d says,
/// so our side is given the same command line.
/// </summary>
public class EffectiveConfigurationTests
{
    private static readonly string HostCommandLine = File.Exists("/proc/cmdline") ? File.ReadAllText("/proc/cmdline") : "";

    /// <summary>modprobe -c with kmod's four directories under the root, like ModprobeConfig.Load under a root.</summary>
    internal static string KmodShowConfig(string root, string? version = null)
    {
        var args = new List<string> { "-c" };
        foreach (var dir in ModprobeConfig.DefaultDirectories)
            args.AddRange(["-C", root + dir]);
        args.AddRange(["-d", root]);
        if (version is not null) args.AddRange(["-S", version]);
        return KmodOracle.Run("modprobe", args, allowFailure: true);
    }

    private static FakeKernelRoot SyntheticTree()
    {
        var fake = new FakeKernelRoot();
        fake.File("/etc/modprobe.d/10-local.conf", """
            # every command, names with dashes, tabs, continuations, trailing blanks
            alias my-fat fat
            alias p-q[-_]r zz-top extra-word
            options snd-hda-intel	index=1 model=auto
            options m a=1  
            install k-k /bin/false  # a comment is part of the command
            remove k-k /bin/true
            blacklist some-thing
            softdep a pre: b c post: d
            softdep x post: y pre: z
            softdep only-post post: q
            options loop max_loop=4 \
              max_part=2
            bogus line here
            """.Replace("\r\n", "\n") + "\n");
        fake.File("/lib/modprobe.d/10-local.conf", "install cramfs /sbin/modprobe --ignore-install cramfs\n"); // masked by /etc's
        fake.File("/lib/modprobe.d/20-dist.conf", "install k-k /bin/echo second\noptions m a=2 b=3\nblacklist pcspkr\n");
        fake.File("/usr/local/lib/modprobe.d/05-first.alias", "alias zz-alias loop\n");
        fake.File("/run/modprobe.d/30-run.conf", "options m b=4\n");
        fake.File("/etc/modprobe.d/ignored.txt", "blacklist not-read\n");
        return fake;
    }

    [Fact]
    public void SyntheticTreeMatchesModprobeC()
    {
        using var fake = SyntheticTree();
        var config = ModprobeConfig.Load(fake.Root, null, HostCommandLine);
        var ours = EffectiveConfiguration.ToModprobeText(EffectiveConfiguration.Entries(config));
        var kmod = KmodShowConfig(fake.Path);
        Assert.Contains("install k_k /bin/false  # a comment", kmod); // the oracle ran and read the files
        Assert.Equal(kmod, ours);
    }

    [Fact]
    public void TheSyntheticTreeMatchesModprobeCWithIndexes()
    {
        var kernel = TestKit.SyntheticTree.Shared;
        var config = ModprobeConfig.Load(kernel.Tree.Root, kernel.Tree, HostCommandLine);
        var ours = EffectiveConfiguration.ToModprobeText(EffectiveConfiguration.Entries(config), kernel.Tree);
        var kmod = KmodShowConfig(kernel.Root, kernel.Version);
        Assert.Contains("softdep jbd2 pre: crypto-crc32c", kmod); // modules.softdep of the tree
        Assert.Contains("alias fs_msdos msdos", kmod); // and its aliases
        Assert.Equal(kmod, ours);
    }

    [Fact]
    public void EntriesCarrySourceLineAndOrigin()
    {
        using var fake = SyntheticTree();
        var entries = EffectiveConfiguration.Entries(ModprobeConfig.Load(fake.Root, null, "quiet loop.max_loop=8 modprobe.blacklist=evbug"));
        var loop = entries.Where(e => e.Kind == ConfigurationKind.Options && e.Module == "loop").ToList();
        Assert.Equal(2, loop.Count);
        Assert.Equal((fake.Root.Resolve("/etc/modprobe.d/10-local.conf"), 12, ConfigurationOrigin.ModprobeDirectory), (loop[0].File, loop[0].Line, loop[0].Origin));
        Assert.Equal("max_loop=4   max_part=2", loop[0].Value);
        Assert.Equal((ConfigLocation.KernelCommandLine, 0, ConfigurationOrigin.KernelCommandLine), (loop[1].File, loop[1].Line, loop[1].Origin));
        Assert.Contains(entries, e => e.Kind == ConfigurationKind.Blacklist && e.Module == "evbug" && e.Origin == ConfigurationOrigin.KernelCommandLine);
        // show_config's order: blacklist, install, remove, alias, options, softdep.
        var kinds = entries.Select(e => e.Kind).ToList();
        Assert.Equal(kinds.OrderBy(k => k).ToList(), kinds);
    }

    [Fact]
    public void LaterInstallAndSupersededOptionsAreNotInEffect()
    {
        using var fake = SyntheticTree();
        var entries = EffectiveConfiguration.Entries(ModprobeConfig.Load(fake.Root, null, ""));
        var installs = entries.Where(e => e.Kind == ConfigurationKind.Install && e.Module == "k_k").ToList();
        Assert.True(installs[0].InEffect);
        Assert.True(installs[0].DisablesLoading is false); // "/bin/false  # ..." is not a bare no-op command
        Assert.False(installs[1].InEffect);
        Assert.Equal(installs[0].Location, installs[1].OverriddenBy);

        var m = entries.Where(e => e.Kind == ConfigurationKind.Options && e.Module == "m").ToList();
        Assert.Equal(["a=1  ", "a=2 b=3", "b=4"], m.Select(e => e.Value));
        Assert.False(m[0].InEffect); // a set again by 20-dist.conf
        Assert.Equal(m[1].Location, m[0].OverriddenBy);
        Assert.True(m[1].InEffect); // a=2 is still the last a
        Assert.True(m[2].InEffect);
    }

    [Fact]
    public void MaskedFilesAreShownOnlyOnRequestAndNeverInEffect()
    {
        using var fake = SyntheticTree();
        var config = ModprobeConfig.Load(fake.Root, null, "");
        Assert.DoesNotContain(EffectiveConfiguration.Entries(config), e => e.Module == "cramfs");
        var masked = Assert.Single(EffectiveConfiguration.Entries(config, includeMasked: true), e => e.Module == "cramfs");
        Assert.False(masked.InEffect);
        Assert.True(masked.Masked);
        Assert.Equal(fake.Root.Resolve("/etc/modprobe.d/10-local.conf"), masked.OverriddenBy);
        Assert.DoesNotContain("cramfs", EffectiveConfiguration.ToModprobeText(EffectiveConfiguration.Entries(config, includeMasked: true)));
    }

    [Theory]
    [InlineData("/bin/false", true)]
    [InlineData("/bin/true ", true)]
    [InlineData("/usr/bin/false", true)]
    [InlineData("/bin/false; modprobe x", false)]
    [InlineData("/sbin/modprobe --ignore-install cramfs", false)]
    public void NoOpInstallCommandsDisableLoading(string command, bool disables) =>
        Assert.Equal(disables, new ConfigurationEntry(ConfigurationKind.Install, "cramfs", command, "f", 1, ConfigurationOrigin.ModprobeDirectory).DisablesLoading);

    [Fact]
    public void ConcernsMatchesPatternsAndAliasTargets()
    {
        var alias = new ConfigurationEntry(ConfigurationKind.Alias, "my_fat", "fat", "f", 1, ConfigurationOrigin.ModprobeDirectory);
        var pattern = new ConfigurationEntry(ConfigurationKind.Install, "nfs*", "x", "f", 2, ConfigurationOrigin.ModprobeDirectory);
        Assert.True(alias.Concerns("fat"));
        Assert.True(alias.Concerns("my-fat"));
        Assert.True(pattern.Concerns("nfsd"));
        Assert.False(pattern.Concerns("fat"));
    }

    [Fact]
    public void KernelRequestSettingsReadHelperAndSwitch()
    {
        using var fake = new FakeKernelRoot();
        Assert.Null(KernelRequestSettings.Read(fake.Root).HelperPath);
        fake.File("/proc/sys/kernel/modprobe", "/sbin/modprobe\n").File("/proc/sys/kernel/modules_disabled", "0\n");
        var on = KernelRequestSettings.Read(fake.Root);
        Assert.Equal(("/sbin/modprobe", false, false), (on.HelperPath, on.RequestsDisabled, on.LoadingDisabled));
        fake.File("/proc/sys/kernel/modprobe", "\n").File("/proc/sys/kernel/modules_disabled", "1\n");
        var off = KernelRequestSettings.Read(fake.Root);
        Assert.Equal((true, true), (off.RequestsDisabled, off.LoadingDisabled));
    }
}

/// <summary>The same on Debian's trees, whose indexes kmod's own depmod wrote.</summary>
[Trait("Layer", "Oracle")]
public class EffectiveConfigurationOracleTests
{
    private static readonly string HostCommandLine = File.Exists("/proc/cmdline") ? File.ReadAllText("/proc/cmdline") : "";

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void DebianTreesMatchModprobeCWithIndexes(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var tree = ModuleDirectory.Open(new SystemRoot(kernel.Root), kernel.Version);
        var config = ModprobeConfig.Load(tree.Root, tree, HostCommandLine);
        var ours = EffectiveConfiguration.ToModprobeText(EffectiveConfiguration.Entries(config), tree);
        var kmod = EffectiveConfigurationTests.KmodShowConfig(kernel.Root, kernel.Version);
        Assert.Contains("softdep ", kmod); // modules.softdep of the tree
        Assert.True(kmod.Split('\n').Length > 20_000, "kmod dumped the alias and symbol indexes");
        Assert.Equal(kmod, ours);
    }
}
