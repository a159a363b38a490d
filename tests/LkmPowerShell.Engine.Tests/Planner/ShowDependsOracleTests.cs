using System.Collections.Concurrent;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Planner;

/// <summary>
/// The load plan, rendered, against <c>modprobe -C DIR -d ROOT -S VER --show-depends NAME</c> of
/// kmod 30 on Debian's two trees: 300 modules a tree (every n-th of modules.dep, so the sample
/// spans the tree), aliases, <c>symbol:</c> names, and a modprobe.d with options, softdeps,
/// install commands, blacklists and aliases. kmod reads the host's /proc/cmdline whatever -d
/// says, so the plans are made with the same command line.
/// </summary>
[Trait("Layer", "Oracle")]
public class ShowDependsOracleTests
{
    private const int ModulesPerTree = 300;

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void ModulesOfTheTreeMatchKmod(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        using var empty = new TempConfigDir();
        var tree = ModuleDirectory.Open(new SystemRoot(kernel.Root), kernel.Version);
        var modules = tree.Modules();
        var step = modules.Count / ModulesPerTree;
        var names = Enumerable.Range(0, ModulesPerTree).Select(i => modules[i * step].Name).ToList();
        // Modules with soft dependencies (modules.softdep) and long chains are the interesting ones.
        names.AddRange(["ext4", "btrfs", "ksmbd", "cifs", "xfs", "msdos", "vfat", "9p", "overlay", "nfsd", "snd_sof_intel_hda",
            "ipmi_msghandler", "vfio", "uhci_hcd", "xt_LOG", "pcengines_apuv2", "libcrc32c", "crc_t10dif", "r8169"]);
        var mismatches = Compare(kernel.Root, kernel.Version, tree, empty.Path, names, out var nonEmpty);
        Assert.True(nonEmpty >= names.Count * 9 / 10, $"only {nonEmpty} of {names.Count} queries made kmod print a plan");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {names.Count} differ from kmod:\n" + string.Join("\n", mismatches.Take(10)));
    }

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void AliasesAndSymbolsMatchKmod(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        using var empty = new TempConfigDir();
        var tree = ModuleDirectory.Open(new SystemRoot(kernel.Root), kernel.Version);
        var symbols = tree.ExportedSymbols();
        var queries = new List<string>();
        for (var i = 0; i < symbols.Count; i += symbols.Count / 40) queries.Add("symbol:" + symbols[i].Symbol);
        queries.AddRange(["fs-msdos", "fs-vfat", "crypto-crc32c", "crypto-sha256", "net-pf-10", "char-major-10-237", "devname:fuse",
            // more names the kernel itself requests (request_module): fuse, tun, aes, netlink/packet families
            "char-major-10-229", "char-major-10-200", "devname:net/tun", "crypto-aes", "crypto-cbc(aes)", "net-pf-17", "fs-squashfs",
            "pci:v00008086d000010D3sv00001234sd00005678bc02sc00i00", "platform:pcspkr", "snd-hda-intel", "crc32c", "symbol:fat_build_inode",
            tree.BuiltinModules()[0], tree.BuiltinModules()[^1], "fs-ext4", "fs-btrfs"]);
        var mismatches = Compare(kernel.Root, kernel.Version, tree, empty.Path, queries, out var nonEmpty);
        Assert.True(nonEmpty >= queries.Count * 3 / 4, $"only {nonEmpty} of {queries.Count} queries made kmod print a plan");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {queries.Count} differ from kmod:\n" + string.Join("\n", mismatches.Take(10)));
    }

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void ModprobeDirectoryMatchesKmod(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        using var dir = new TempConfigDir();
        dir.Write("10-options.conf", """
            # options concatenate, by name and by alias, tabs become spaces
            options fat codepage=850
            options msdos foo=1	bar=2
            options  snd-hda-intel  model=auto  index=1
            options my-fat via_alias=1
            options loop max_loop=4 \
                max_part=2
            """);
        dir.Write("20-commands.conf", """
            install dummy /bin/true $CMDLINE_OPTS
            remove dummy /bin/true
            install fakemod echo fake $CMDLINE_OPTS
            install nfs* /sbin/modprobe --ignore-install nfs
            install crc16 /bin/echo crc16 is special
            """);
        dir.Write("30-softdep.conf", """
            softdep msdos pre: nls_cp437 post: vfat
            softdep loop pre: crc32c post: no-such-softdep
            softdep dummy pre: crc16
            softdep vfat pre: fat
            """);
        dir.Write("40-alias.conf", """
            alias my-fat fat
            alias my-* vfat
            alias symbolic fakemod
            alias to-nowhere no_such_module
            alias mod-simple deaddood
            alias half-there deaddood
            alias half-there fat
            alias fs-msdos vfat
            blacklist pcspkr
            blacklist msdos
            weakdep fat nls_utf8
            bad line here
            """);
        dir.Write("ignored.txt", "options fat ignored=1\n");
        var tree = ModuleDirectory.Open(new SystemRoot(kernel.Root), kernel.Version);
        var queries = new List<string> { "fat", "msdos", "vfat", "my-fat", "my-thing", "dummy", "snd-hda-intel", "snd_hda_intel", "loop",
            "ext4", "nfs", "nfsv4", "fakemod", "symbolic", "pcspkr", "platform:pcspkr", "fs-msdos", "crc16", "jbd2", "ext2", "btrfs",
            // kmod's testsuite case modprobe_show_alias_to_none: an alias to a module that is not installed plans nothing
            "mod-simple", "half-there" };
        var mismatches = Compare(kernel.Root, kernel.Version, tree, dir.Path, queries, out var nonEmpty);
        Assert.True(nonEmpty >= queries.Count - 4, $"only {nonEmpty} of {queries.Count} queries made kmod print a plan");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {queries.Count} differ from kmod:\n" + string.Join("\n", mismatches.Take(10)));
    }

    /// <summary>kmod's --show-depends against the planner's, for each query; returns the differences.</summary>
    internal static List<string> Compare(string root, string version, ModuleDirectory tree, string configDir, IReadOnlyList<string> queries, out int nonEmpty)
    {
        var config = ModprobeConfig.LoadFrom([configDir], tree, KernelCommandLine.Read(SystemRoot.Host));
        var planner = new LoadPlanner(new ModuleResolver(tree, config), KernelSnapshot.Empty,
            LoadPlanOptions.KmodCompatible with { IgnoreLoaded = true });
        var expected = new ConcurrentDictionary<string, string>();
        Parallel.ForEach(queries, new ParallelOptions { MaxDegreeOfParallelism = 2 }, q =>
            expected[q] = KmodOracle.Run("modprobe", ["-C", configDir, "-d", root, "-S", version, "--show-depends", "--", q], allowFailure: true));
        var mismatches = new List<string>();
        foreach (var q in queries)
        {
            string actual;
            try
            {
                actual = planner.PlanLoad(q).ToShowDependsText();
            }
            catch (ModuleNotFoundException)
            {
                actual = "";
            }
            if (actual != expected[q]) mismatches.Add($"--- {q}\nkmod:\n{expected[q]}ours:\n{actual}");
        }
        nonEmpty = expected.Values.Count(v => v.Length > 0);
        return mismatches;
    }
}

/// <summary>A throw-away modprobe.d.</summary>
public sealed class TempConfigDir : IDisposable
{
    public TempConfigDir() => Path = Directory.CreateTempSubdirectory("lkm-modprobe.d-").FullName;

    public string Path { get; }

    public TempConfigDir Write(string name, string text)
    {
        File.WriteAllText(System.IO.Path.Join(Path, name), text.Replace("\r\n", "\n") + "\n");
        return this;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
