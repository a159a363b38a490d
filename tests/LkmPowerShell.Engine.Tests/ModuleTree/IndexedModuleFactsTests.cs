using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.Kernel;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleTree;

/// <summary>
/// What depmod's index says about each module without reading it (aliases, soft dependencies, the
/// closure modprobe loads), what modinfo shows for an alias, and the error of a tree depmod has not
/// indexed: hermetic trees for the rules, Debian's trees (read file by file) as the oracle.
/// </summary>
public class IndexedModuleFactsTests
{
    private const string Version = "9.9.9-facts";

    private static FakeKernelRoot Tree(bool index = true)
    {
        var fake = new FakeKernelRoot();
        var dir = $"/lib/modules/{Version}";
        fake.File($"{dir}/kernel/fs/fat/fat.ko", "stand-in").File($"{dir}/kernel/fs/fat/msdos.ko", "stand-in")
            .File($"{dir}/kernel/fs/fat/vfat.ko", "stand-in").File($"{dir}/kernel/fs/nls/nls_cp437.ko", "stand-in");
        if (index)
            fake.File($"{dir}/modules.dep", "kernel/fs/nls/nls_cp437.ko:\nkernel/fs/fat/fat.ko: kernel/fs/nls/nls_cp437.ko\n" +
                    "kernel/fs/fat/msdos.ko: kernel/fs/fat/fat.ko kernel/fs/nls/nls_cp437.ko\nkernel/fs/fat/vfat.ko: kernel/fs/fat/fat.ko kernel/fs/nls/nls_cp437.ko\n")
                .File($"{dir}/modules.alias", "# Aliases extracted from modules themselves.\nalias fs-msdos msdos\nalias fs-vfat vfat\nalias fs-fat-* vfat\nalias pci:v00001234d*sv*sd*bc*sc*i* msdos\n")
                .File($"{dir}/modules.softdep", "# Soft dependencies extracted from modules themselves.\nsoftdep vfat pre: nls-cp437 post: msdos\nsoftdep vfat pre: fat\n");
        return fake;
    }

    private static ModuleDirectory Open(FakeKernelRoot fake) => ModuleDirectory.Open(fake.Root, Version);

    [Fact]
    public void AnswersFromTheIndexFiles()
    {
        using var fake = Tree();
        var facts = new IndexedModuleFacts(Open(fake));
        Assert.Equal(["fs-vfat", "fs-fat-*"], facts.Aliases("vfat"));
        Assert.Equal(["fs-msdos", "pci:v00001234d*sv*sd*bc*sc*i*"], facts.Aliases("msdos"));
        Assert.Empty(facts.Aliases("fat")!);
        Assert.Equal(["pre: nls-cp437 post: msdos", "pre: fat"], facts.SoftDependencies("vfat"));
        Assert.Empty(facts.SoftDependencies("msdos")!);
        // modules.dep lists fat then nls_cp437 for msdos: modprobe loads the last first.
        Assert.Equal(["nls_cp437", "fat"], facts.RequiredModules("msdos"));
        Assert.Empty(facts.RequiredModules("nls_cp437")!);
        Assert.Null(facts.RequiredModules("no_such_module"));
    }

    [Fact]
    public void CoversOnlyFilesNotNewerThanModulesDep()
    {
        using var fake = Tree();
        var dep = fake.Root.Resolve($"/lib/modules/{Version}/modules.dep");
        var indexed = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(dep, indexed);
        var facts = new IndexedModuleFacts(Open(fake));
        Assert.Equal(indexed, facts.IndexedAt);
        Assert.True(facts.Covers(indexed));
        Assert.True(facts.Covers(indexed.AddDays(-1)));
        Assert.False(facts.Covers(indexed.AddSeconds(1)));
    }

    [Fact]
    public void MissingOrDamagedIndexFilesAnswerNull()
    {
        using var fake = Tree(index: false);
        var facts = new IndexedModuleFacts(Open(fake));
        Assert.Null(facts.IndexedAt);
        Assert.False(facts.Covers(DateTime.MinValue));
        Assert.Null(facts.Aliases("msdos"));
        Assert.Null(facts.SoftDependencies("vfat"));
        Assert.Null(facts.RequiredModules("msdos"));

        using var damaged = Tree();
        damaged.File($"/lib/modules/{Version}/modules.alias", "this is not an alias line\n")
            .File($"/lib/modules/{Version}/modules.softdep", "neither is this\n");
        var damagedFacts = new IndexedModuleFacts(Open(damaged));
        Assert.Null(damagedFacts.Aliases("msdos"));
        Assert.Null(damagedFacts.SoftDependencies("vfat"));
    }

    [Fact]
    public void AnUnindexedTreeSaysSoForDependencies()
    {
        using var fake = Tree(index: false);
        var tree = Open(fake);
        Assert.Equal(4, tree.Modules().Count); // the listing still scans the folder
        var e = Assert.Throws<ModuleTreeNotIndexedException>(() => tree.Dependencies("msdos"));
        Assert.IsAssignableFrom<FileNotFoundException>(e);
        Assert.Equal(tree.Path, e.Directory);
        Assert.Equal(Version, e.KernelVersion);
        Assert.Contains("modules.dep", e.Message);
        Assert.Null(tree.DependencyNames("msdos"));
    }

    [Fact]
    public void ModinfoLookupNamesThePatternThatMatched()
    {
        using var fake = Tree();
        var tree = Open(fake);
        var resolver = new ModuleResolver(tree, ModprobeConfig.LoadFrom([], tree));
        var fs = Assert.Single(ModinfoLookup.Resolve(resolver, "fs-fat-32"));
        Assert.Equal(("vfat", "fs-fat-*"), (fs.Module, fs.MatchedAlias));
        Assert.NotNull(fs.Installed);
        var pci = Assert.Single(ModinfoLookup.Resolve(resolver, "pci:v00001234d00005678sv00000000sd00000000bc01sc02i03"));
        Assert.Equal(("msdos", "pci:v00001234d*sv*sd*bc*sc*i*"), (pci.Module, pci.MatchedAlias));
        Assert.Empty(ModinfoLookup.Resolve(resolver, "fs-nothing"));
        Assert.Empty(ModinfoLookup.Resolve(resolver, "../etc/passwd"));
    }

    /// <summary>
    /// Every module of Debian's trees: the aliases and soft dependencies the index gives are the
    /// file's own .modinfo values, in its order, and the closure is modules.dep's line read backwards.
    /// </summary>
    [Theory]
    [Trait("Layer", "Oracle")]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void EqualsWhatEachFileSays(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var tree = ModuleDirectory.Open(new SystemRoot(kernel.Root), kernel.Version);
        var facts = new IndexedModuleFacts(tree);
        var modules = tree.Modules();
        Assert.True(modules.Count > 4000);
        // Every module of the plain tree; every fifth of the xz tree (decompressing all takes long).
        var step = flavour == "xz" ? 5 : 1;
        var mismatches = new List<string>();
        for (var i = 0; i < modules.Count; i += step)
        {
            var m = modules[i];
            var info = ModuleFileReader.Read(m.Path, tree.Root, ModuleSymbolDetail.Counts);
            if (!facts.Aliases(m.Name)!.SequenceEqual(info.GetValues("alias")))
                mismatches.Add($"{m.Name}: aliases");
            if (!facts.SoftDependencies(m.Name)!.SequenceEqual(info.GetValues("softdep")))
                mismatches.Add($"{m.Name}: softdep");
            if (!facts.RequiredModules(m.Name)!.SequenceEqual(tree.Dependencies(m.Name)!.Select(d => d.Name).Reverse()))
                mismatches.Add($"{m.Name}: closure");
        }
        Assert.Empty(mismatches.Take(10));
    }
}
