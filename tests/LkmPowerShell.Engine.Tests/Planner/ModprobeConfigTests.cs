using LkmPowerShell.Engine.Planner;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Planner;

/// <summary>modprobe.d and the kernel command line, read as kmod 30 reads them.</summary>
public class ModprobeConfigTests
{
    [Fact]
    public void ParsesEveryCommandWithKmodsQuirks()
    {
        var config = ModprobeConfig.Parse("""
            # a comment
            alias my-fat fat
            options  snd-hda-intel  model=auto	index=1
            options fat a=1 \
              b=2
            install nfs* /sbin/modprobe --ignore-install nfs $CMDLINE_OPTS
            remove dummy /bin/true
            blacklist pc-spkr
            softdep ext4 pre: crc32c crc16 post: jbd2
            softdep ext4 pre: mbcache
            weakdep fat nls-utf8 nls_cp437
              # indented: not a comment for kmod
            alias only-one
            include /etc/foo.conf
            options usb[-_]storage x=1
            alias bad] foo
            """, "test.conf");
        Assert.Equal(new ConfigAlias("my_fat", "fat", new ConfigLocation("test.conf", 2)), config.Aliases.Single());
        Assert.Equal(" model=auto index=1", config.OptionsFor("snd_hda_intel")); // kmod keeps the extra blank after the name
        Assert.Equal("a=1   b=2", config.OptionsFor("fat"));
        Assert.Equal(4, config.OptionEntriesFor("fat").Single().Source.Line);
        Assert.Equal("/sbin/modprobe --ignore-install nfs $CMDLINE_OPTS", config.InstallCommandFor("nfsv4")?.Command);
        Assert.Null(config.InstallCommandFor("fat"));
        Assert.Equal("/bin/true", config.RemoveCommandFor("dummy")?.Command);
        Assert.True(config.IsBlacklisted("pc_spkr"));
        Assert.True(config.IsBlacklisted("pc-spkr"));
        var softdeps = config.SoftDependenciesFor("ext4");
        Assert.Equal(2, softdeps.Count);
        Assert.Equal(["crc32c", "crc16"], softdeps[0].Pre);
        Assert.Equal(["jbd2"], softdeps[0].Post);
        Assert.Equal(["nls-utf8", "nls_cp437"], config.WeakDependenciesFor("fat"));
        Assert.Contains(config.Options, o => o.Module == "usb[-_]storage" && o.Options == "x=1"); // "-" kept inside brackets
        Assert.Equal(4, config.Warnings.Count);
        Assert.Contains(config.Warnings, w => w.Source.Line == 12 && w.Message.Contains("'#'"));
        Assert.Contains(config.Warnings, w => w.Source.Line == 13 && w.Message.Contains("'alias'"));
        Assert.Contains(config.Warnings, w => w.Source.Line == 14 && w.Message.Contains("obsolete"));
        Assert.Contains(config.Warnings, w => w.Source.ToString() == "test.conf:16");
    }

    [Fact]
    public void FilesSortByBaseNameAndTheFirstDirectoryWins()
    {
        using var etc = new TempConfigDir();
        using var lib = new TempConfigDir();
        etc.Write("b.conf", "options fat from=etc-b");
        lib.Write("b.conf", "options fat from=lib-b");
        lib.Write("a.conf", "options fat from=lib-a");
        lib.Write("c.alias", "options fat from=lib-c-alias");
        lib.Write(".hidden.conf", "options fat from=hidden");
        lib.Write("d.txt", "options fat from=txt");
        Directory.CreateDirectory(Path.Join(lib.Path, "e.conf"));
        var config = ModprobeConfig.LoadFrom([etc.Path, "/nonexistent/modprobe.d", lib.Path]);
        Assert.Equal("from=lib-a from=etc-b from=lib-c-alias", config.OptionsFor("fat"));
        Assert.Contains(config.Warnings, w => w.Message.Contains("directories inside"));
    }

    [Fact]
    public void SkipsOversizedFilesAndLinesWithAWarning()
    {
        using var dir = new TempConfigDir();
        dir.Write("big.conf", new string('#', ModprobeConfigParser.MaxFileBytes + 1));
        dir.Write("long.conf", "options fat x=" + new string('y', ModprobeConfigParser.MaxLineLength + 10) + "\noptions fat ok=1");
        var config = ModprobeConfig.LoadFrom([dir.Path]);
        Assert.Equal("ok=1", config.OptionsFor("fat"));
        Assert.Contains(config.Warnings, w => w.Source.File.EndsWith("big.conf") && w.Message.Contains("skipped"));
        Assert.Contains(config.Warnings, w => w.Source.ToString().EndsWith("long.conf:1"));
    }

    [Theory]
    [InlineData("quiet fat.codepage=850 root=/dev/sda1", "fat", "codepage=850")]
    [InlineData("snd-hda-intel.model=auto", "snd_hda_intel", "model=auto")]
    [InlineData("parport.dyndbg=\"file a.c +p\" x", "parport", "dyndbg=\"file a.c +p\"")]
    [InlineData("\"parport.dyndbg=file a.c +p\" x", "parport", "dyndbg=\"file a.c +p\"")]
    [InlineData("fat.flag other", "fat", "flag")]
    public void KernelCommandLineGivesOptions(string cmdline, string module, string options)
    {
        var config = ModprobeConfig.Parse("", kernelCommandLine: cmdline);
        Assert.Equal(options, config.OptionsFor(module));
        Assert.Equal(ConfigLocation.KernelCommandLine, config.Options.Single().Source.File);
    }

    [Fact]
    public void KernelCommandLineBlacklistsAndIgnoresTheRest()
    {
        var config = ModprobeConfig.Parse("options fat a=1", kernelCommandLine:
            "modprobe.blacklist=pcspkr,snd-pcsp console=ttyS0 a.b.c=1 x.y=\"unclosed fat.codepage=437\n");
        Assert.True(config.IsBlacklisted("pcspkr"));
        Assert.True(config.IsBlacklisted("snd_pcsp"));
        Assert.Equal("a=1", config.OptionsFor("fat")); // the unclosed quote swallows the rest, as in kmod
    }

    /// <summary>The entries kmod 30 reports with <c>modprobe -c</c> for the same directory, in the same order.</summary>
    [Fact]
    public void EntriesMatchModprobeShowConfig()
    {
        var kernel = TestKit.SyntheticTree.Shared;
        using var dir = new TempConfigDir();
        dir.Write("a.conf", "options fat codepage=850\noptions  msdos\tfoo=1\tbar=2\nalias my-fat fat\nblacklist snd-pcsp\ninstall dummy /bin/true $CMDLINE_OPTS");
        dir.Write("b.conf", "alias to-* vfat\nremove dummy /bin/false\noptions fat iocharset=utf8 \\\n  x=1\nbogus line\nblacklist pcspkr");
        var cmdline = KernelCommandLine.Read(SystemRoot.Host);
        var config = ModprobeConfig.LoadFrom([dir.Path], null, cmdline);
        var kmod = KmodOracle.Run("modprobe", ["-c", "-C", dir.Path, "-d", kernel.Root, "-S", kernel.Version]).Split('\n');
        string[] kinds = ["blacklist", "install", "remove", "options"];
        var expected = kmod.Where(l => kinds.Any(k => l.StartsWith(k + " "))).ToList();
        var ours = config.Blacklist.Select(b => $"blacklist {b.Module}")
            .Concat(config.InstallCommands.Select(c => $"install {c.ModulePattern} {c.Command}"))
            .Concat(config.RemoveCommands.Select(c => $"remove {c.ModulePattern} {c.Command}"))
            .Concat(config.Options.Select(o => $"options {o.Module} {o.Options}")).ToList();
        Assert.Equal(expected, ours);
        Assert.Equal(kmod.Where(l => l.StartsWith("alias ")).Take(config.Aliases.Count), config.Aliases.Select(a => $"alias {a.Pattern} {a.Module}"));
    }
}
