using System.Diagnostics;
using System.Text;
using LkmPowerShell.Engine.ModuleTree;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleTree;

/// <summary>ModuleDirectory on Debian's trees, with kmod 30's modprobe as the oracle.</summary>
[Trait("Layer", "Oracle")]
public class ModuleDirectoryTests
{
    private static ModuleDirectory Open(KernelFixture kernel) => ModuleDirectory.Open(new SystemRoot(kernel.Root), kernel.Version);

    /// <summary>
    /// About 50 real alias patterns a tree, each made into a concrete string (as a device's
    /// modalias would be), plus names, symbols, built-ins and misses: the engine resolves each to
    /// exactly the modules, in the order, that <c>modprobe -R</c> prints.
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void ResolvesLikeModprobe(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var tree = Open(kernel);
        var aliases = ModulesAliasFile.Read(Path.Combine(kernel.ModulesDirectory, "modules.alias"));
        var queries = new List<string>();
        var step = aliases.Count / 50;
        for (var i = 0; i < aliases.Count && queries.Count < 50; i += step)
        {
            var concrete = Concrete(aliases[i].Pattern, queries.Count);
            if (concrete is not null) queries.Add(concrete);
        }
        Assert.True(queries.Count(q => q.Contains(':')) >= 40);
        queries.AddRange(["fs-msdos", "msdos", "snd-hda-intel", "ext4", "crc32c", "symbol:fat_build_inode",
            "symbol:no_such_symbol", "no_such_module", "pci:v00008086d000010D3sv00001234sd00005678bc02sc00i00",
            "usb:v0000p0000d0000dc00dsc00dp00ic00isc00ip00in00", tree.BuiltinModules()[0]]);

        var mismatches = new List<string>();
        foreach (var query in queries)
        {
            var expected = Modprobe(kernel, "-R", "--", query);
            var actual = Resolve(tree, query);
            if (!expected.SequenceEqual(actual.Modules))
                mismatches.Add($"{query}: modprobe [{string.Join(' ', expected)}], engine [{string.Join(' ', actual.Modules)}] ({actual.Source})");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.Contains(queries, q => Resolve(tree, q).Modules.Count > 1); // some query really merges several matches
    }

    /// <summary>The tree's answer for a name (no modprobe.d): the one resolver, with an empty configuration.</summary>
    private static (IReadOnlyList<string> Modules, LkmPowerShell.Engine.Planner.ModuleSource Source) Resolve(ModuleDirectory tree, string query)
    {
        var r = new LkmPowerShell.Engine.Planner.ModuleResolver(tree, LkmPowerShell.Engine.Planner.ModprobeConfig.Parse("", "none.conf", null)).Resolve(query);
        return (r.Modules.Select(m => m.Name).ToList(), r.Source);
    }

    /// <summary>A string the pattern matches: "*" becomes "" or "0A", "?" "Z", a bracket its first member.</summary>
    private static string? Concrete(string pattern, int variant)
    {
        var text = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '*': text.Append(variant % 2 == 0 ? "" : "0A"); break;
                case '?': text.Append('Z'); break;
                case '\\' when i + 1 < pattern.Length: text.Append(pattern[++i]); break;
                case '[':
                    var close = pattern.IndexOf(']', i + 2);
                    if (close < 0 || pattern[i + 1] is '!' or '^') return null;
                    text.Append(pattern[i + 1]);
                    i = close;
                    break;
                default: text.Append(pattern[i]); break;
            }
        }
        return text.ToString();
    }

    private static List<string> Modprobe(KernelFixture kernel, params string[] arguments)
    {
        var modprobe = new[] { "/usr/sbin/modprobe", "/sbin/modprobe" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("kmod's modprobe is missing; install Debian's kmod package ('apt-get install kmod').");
        var start = new ProcessStartInfo(modprobe) { RedirectStandardOutput = true, RedirectStandardError = true };
        // -d and -S only read the fixture's tree; -R resolves and never loads anything.
        foreach (var argument in new[] { "-d", kernel.Root, "-S", kernel.Version }.Concat(arguments)) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)] : [];
    }

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void ModulesAndDependenciesEqualModulesDep(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var tree = Open(kernel);
        var lines = ModulesDepFile.Read(Path.Combine(kernel.ModulesDirectory, "modules.dep"), kernel.ModulesDirectory);
        Assert.True(tree.HasDependencyIndex);
        Assert.Equal(lines.Select(l => l.Module), tree.Modules());
        Assert.All(tree.Modules(), m => Assert.True(File.Exists(m.Path), m.Path));
        foreach (var line in lines)
        {
            Assert.Equal(line.Module, tree.FindModule(line.Module.Name));
            Assert.Equal(line.Dependencies, tree.Dependencies(line.Module.Name));
        }
        Assert.Equal(["fat"], tree.Dependencies("msdos")!.Select(m => m.Name));
        Assert.Equal(tree.FindModule("snd_hda_intel"), tree.FindModule("snd-hda-intel"));
        Assert.Null(tree.FindModule("no_such_module"));
        Assert.Null(tree.Dependencies("no_such_module"));
    }

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void SymbolsBuiltinsAndSmallFilesRead(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var tree = Open(kernel);
        Assert.Equal(["fat"], tree.FindSymbolProviders("fat_build_inode"));
        Assert.Equal(["fat"], tree.FindSymbolProviders("symbol:fat_build_inode"));
        Assert.Empty(tree.FindSymbolProviders("no_such_symbol"));
        var symbols = tree.ExportedSymbols();
        Assert.All(symbols.Where((_, i) => i % 50 == 0), s => Assert.Equal([s.Module], tree.FindSymbolProviders(s.Symbol)));

        var builtin = tree.BuiltinModules();
        Assert.True(builtin.Count > 100);
        Assert.All(builtin, name => Assert.True(tree.IsBuiltin(name)));
        Assert.False(tree.IsBuiltin("msdos"));
        Assert.Contains(tree.BuiltinModinfo(), f => f.Key == "alias");

        var lines = (string name) => File.ReadAllLines(Path.Combine(kernel.ModulesDirectory, name)).Count(l => l.Length > 0 && l[0] != '#');
        Assert.Equal(lines("modules.softdep"), tree.SoftDependencies().Count);
        Assert.Contains(tree.SoftDependencies(), s => s.Module == "ext4" && s.Pre.Contains("crypto-crc32c"));
        Assert.Equal(lines("modules.devname"), tree.DeviceNodes().Count);
        Assert.Contains(tree.DeviceNodes(), d => d is { Module: "loop", DeviceName: "loop-control", Type: 'c', Major: 10, Minor: 237 });
        Assert.Equal(lines("modules.order"), tree.Order().Count);
    }

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void ScanFindsTheModulesDepmodIndexed(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var watch = Stopwatch.StartNew();
        var scanned = ModuleTreeScanner.Scan(kernel.ModulesDirectory);
        var elapsed = watch.Elapsed;
        var indexed = Open(kernel).Modules();
        Assert.Equal(indexed.OrderBy(m => m.IndexPath, StringComparer.Ordinal), scanned);
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"scan took {elapsed}");
    }

    /// <summary>The same answers from the text files alone, and from a tree depmod never saw.</summary>
    [Fact]
    public void TextFilesAndScanningStandInForMissingIndexes()
    {
        var kernel = KernelFixtures.Plain;
        var bin = Open(kernel);
        var root = Directory.CreateTempSubdirectory("lkm-moduletree-");
        try
        {
            var folder = Directory.CreateDirectory(Path.Combine(root.FullName, "lib/modules", kernel.Version)).FullName;
            foreach (var name in new[] { "modules.dep", "modules.alias", "modules.symbols", "modules.builtin", "modules.builtin.modinfo", "modules.order" })
                File.Copy(Path.Combine(kernel.ModulesDirectory, name), Path.Combine(folder, name));
            var text = ModuleDirectory.Open(new SystemRoot(root.FullName), kernel.Version);
            Assert.Equal(bin.Modules().Select(m => m.IndexPath), text.Modules().Select(m => m.IndexPath));
            Assert.Equal(bin.Dependencies("msdos")!.Select(m => m.IndexPath), text.Dependencies("msdos")!.Select(m => m.IndexPath));
            Assert.Equal(bin.BuiltinModules().Order(), text.BuiltinModules().Order());
            var aliases = bin.Aliases();
            foreach (var alias in aliases.Where((_, i) => i % 500 == 0))
            {
                var query = Concrete(alias.Pattern, 1);
                if (query is null) continue;
                Assert.Equal(Resolve(bin, query).Modules.Order(), Resolve(text, query).Modules.Order());
            }
            foreach (var alias in bin.BuiltinModinfo().Where(f => f.Key == "alias").Take(20))
                Assert.Equal(bin.ResolveBuiltinAlias(alias.Value), text.ResolveBuiltinAlias(alias.Value));
            Assert.Equal(bin.FindSymbolProviders("fat_build_inode"), text.FindSymbolProviders("fat_build_inode"));

            // No modules.dep at all: modules are found by scanning; dependencies are a clear error.
            File.Delete(Path.Combine(folder, "modules.dep"));
            Directory.CreateDirectory(Path.Combine(folder, "kernel/fs/fat"));
            Directory.CreateDirectory(Path.Combine(folder, "updates"));
            Directory.CreateDirectory(Path.Combine(folder, "build/fs"));
            foreach (var file in new[] { "kernel/fs/fat/fat.ko.xz", "kernel/fs/fat/msdos.ko", "kernel/fs/fat/vfat.ko.zst", "updates/vfat.ko",
                         "kernel/fs/fat/notes.txt", "build/fs/ignored.ko" })
                File.WriteAllText(Path.Combine(folder, file), "");
            var bare = ModuleDirectory.Open(new SystemRoot(root.FullName), kernel.Version);
            Assert.False(bare.HasDependencyIndex);
            Assert.Equal(["kernel/fs/fat/fat.ko.xz", "kernel/fs/fat/msdos.ko", "updates/vfat.ko"], bare.Modules().Select(m => m.IndexPath));
            Assert.Equal(Path.Combine(folder, "updates/vfat.ko"), bare.FindModule("vfat")!.Path);
            Assert.Contains("depmod", Assert.Throws<ModuleTreeNotIndexedException>(() => bare.Dependencies("msdos")).Message);
            Assert.Equal(["msdos"], new LkmPowerShell.Engine.Planner.ModuleResolver(bare, LkmPowerShell.Engine.Planner.ModprobeConfig.Parse("", "none.conf", null)).Resolve("msdos").Modules.Select(m => m.Name));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void MissingKernelVersionNamesTheInstalledOnes()
    {
        var kernel = KernelFixtures.Plain;
        var root = new SystemRoot(kernel.Root);
        Assert.Equal([kernel.Version], ModuleDirectory.InstalledKernelVersions(root));
        var error = Assert.Throws<KernelNotInstalledException>(() => ModuleDirectory.Open(root, "9.9.9-nope"));
        Assert.Contains("9.9.9-nope", error.Message);
        Assert.Contains("installed: " + kernel.Version, error.Message);
        Assert.Equal([kernel.Version], error.InstalledVersions);

        var empty = Directory.CreateTempSubdirectory("lkm-moduletree-");
        try
        {
            var none = Assert.Throws<KernelNotInstalledException>(() => ModuleDirectory.Open(new SystemRoot(empty.FullName), "6.1.0-1-amd64"));
            Assert.Contains("missing or empty", none.Message);
            Assert.Empty(ModuleDirectory.InstalledKernelVersions(new SystemRoot(empty.FullName)));
        }
        finally
        {
            empty.Delete(recursive: true);
        }
        Assert.Throws<ArgumentException>(() => ModuleDirectory.Open(root, "../../etc"));
    }
}
