using Xunit;
using Xunit.Abstractions;
using System.Buffers.Binary;
using System.Diagnostics;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Tests.ModuleTree;

/// <summary>The .bin reader against the text files kmod 30's depmod wrote beside it, on Debian's trees.</summary>
[Trait("Layer", "Oracle")]
public class IndexFileTests(ITestOutputHelper output)
{
    private static string File(KernelFixture kernel, string name) => Path.Combine(kernel.ModulesDirectory, name);

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void DepBinEqualsModulesDep(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var index = IndexFile.Open(File(kernel, "modules.dep.bin"));
        var text = System.IO.File.ReadAllLines(File(kernel, "modules.dep"))
            .ToDictionary(l => ModuleName.FromPath(l[..l.IndexOf(':')]), l => l);
        var entries = index.Enumerate().ToList();
        Assert.Equal(text.Count, entries.Count);
        Assert.Equal(text.Count, entries.Select(e => e.Key).Distinct().Count());
        foreach (var entry in entries)
        {
            Assert.Equal(text[entry.Key], entry.Value);
            Assert.Equal(entry.Value, index.Lookup(entry.Key));
        }
        // depmod numbers modules in modules.dep's order.
        Assert.Equal(text.Keys, entries.OrderBy(e => e.Priority).Select(e => e.Key));
        Assert.Null(index.Lookup("no_such_module"));
        Assert.Null(index.Lookup(""));
    }

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void AliasBinEqualsModulesAlias(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var index = IndexFile.Open(File(kernel, "modules.alias.bin"));
        var expected = ModulesAliasFile.Read(File(kernel, "modules.alias"))
            .Select(a => $"{ModuleName.NormalizeAlias(a.Pattern)} {a.Module}").Order(StringComparer.Ordinal).ToList();
        var actual = index.Enumerate().Select(e => $"{e.Key} {e.Value}").Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.Count > 20000, $"only {expected.Count} aliases");
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void SymbolsBinEqualsModulesSymbols(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var index = IndexFile.Open(File(kernel, "modules.symbols.bin"));
        var expected = ModulesSymbolsFile.Read(File(kernel, "modules.symbols"))
            .Select(s => $"symbol:{s.Symbol} {s.Module}").Order(StringComparer.Ordinal).ToList();
        var actual = index.Enumerate().Select(e => $"{e.Key} {e.Value}").Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.Count > 10000, $"only {expected.Count} symbols");
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void BuiltinBinEqualsModulesBuiltin(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var index = IndexFile.Open(File(kernel, "modules.builtin.bin"));
        var expected = ModulesBuiltinFile.Read(File(kernel, "modules.builtin")).Select(b => b.Name).Distinct().Order(StringComparer.Ordinal);
        var entries = index.Enumerate().ToList();
        Assert.All(entries, e => Assert.Equal(("", 0u), (e.Value, e.Priority)));
        Assert.Equal(expected, entries.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.All(entries, e => Assert.Equal("", index.Lookup(e.Key)));
    }

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void BuiltinAliasBinEqualsBuiltinModinfoAliases(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var index = IndexFile.Open(File(kernel, "modules.builtin.alias.bin"));
        var expected = ModulesBuiltinModinfoFile.Read(File(kernel, "modules.builtin.modinfo"))
            .Where(f => f.Key == "alias").Select(f => $"{ModuleName.NormalizeAlias(f.Value)} {f.Module}").Order(StringComparer.Ordinal);
        Assert.Equal(expected, index.Enumerate().Select(e => $"{e.Key} {e.Value}").Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Re-serialises real indexes: post-order must come out byte for byte as kmod 30 wrote it
    /// (which proves the test writer), and the pre-order copy (kmod 34's layout) must read the same.
    /// </summary>
    [Theory]
    [InlineData("modules.dep.bin")]
    [InlineData("modules.alias.bin")]
    [InlineData("modules.symbols.bin")]
    [InlineData("modules.builtin.bin")]
    [InlineData("modules.builtin.alias.bin")]
    public void PreOrderLayoutReadsLikePostOrder(string name)
    {
        var kernel = KernelFixtures.Plain;
        var original = System.IO.File.ReadAllBytes(File(kernel, name));
        var postOrder = IndexFile.Parse(name, original);
        var entries = postOrder.Enumerate().ToList();

        Assert.Equal(original, IndexWriter.Write(entries, preOrder: false));

        var preBytes = IndexWriter.Write(entries, preOrder: true);
        Assert.Equal(12u, BinaryPrimitives.ReadUInt32BigEndian(preBytes.AsSpan(8)) & 0x0FFFFFFF);
        var preOrder = IndexFile.Parse(name + " (pre-order)", preBytes);
        Assert.Equal(entries, preOrder.Enumerate().ToList());
        // Keys of alias indexes are patterns, so a key used as a query walks wildcard subtrees:
        // a sample keeps this test quick.
        foreach (var key in entries.Select(e => e.Key).Distinct().Where((_, i) => i % 97 == 0))
        {
            Assert.Equal(postOrder.Lookup(key), preOrder.Lookup(key));
            Assert.Equal(postOrder.SearchWildcard(key), preOrder.SearchWildcard(key));
        }
    }

    /// <summary>Opening and querying the largest index, as a cmdlet would: figures go to the test output.</summary>
    [Fact]
    public void LookupsAreFast()
    {
        var kernel = KernelFixtures.Xz;
        var watch = Stopwatch.StartNew();
        var aliases = IndexFile.Open(File(kernel, "modules.alias.bin"));
        var open = watch.Elapsed;
        var queries = ModulesAliasFile.Read(File(kernel, "modules.alias"))
            .Where((_, i) => i % 27 == 0).Select(a => ModuleName.NormalizeAlias(a.Pattern.Replace("*", "1").Replace("?", "Z"))).ToList();
        watch.Restart();
        var found = queries.Count(q => aliases.SearchWildcard(q).Count > 0);
        var search = watch.Elapsed;
        var dep = IndexFile.Open(File(kernel, "modules.dep.bin"));
        var names = dep.Enumerate().Select(e => e.Key).ToList();
        watch.Restart();
        Assert.All(names, n => Assert.NotNull(dep.Lookup(n)));
        var lookup = watch.Elapsed;
        output.WriteLine($"open modules.alias.bin ({aliases.Length:N0} bytes): {open.TotalMilliseconds:F1} ms; " +
            $"{queries.Count} wildcard searches: {search.TotalMilliseconds / queries.Count:F3} ms each ({found} found); " +
            $"{names.Count} modules.dep.bin lookups: {lookup.TotalMilliseconds * 1000 / names.Count:F1} us each");
        Assert.True(found > queries.Count * 9 / 10);
        Assert.True(search < TimeSpan.FromSeconds(20), $"searches took {search}");
    }

    [Fact]
    public void EmptyIndexHasNoKeys()
    {
        var entries = Array.Empty<IndexEntry>();
        foreach (var preOrder in new[] { false, true })
        {
            var index = IndexFile.Parse("empty", IndexWriter.Write(entries, preOrder));
            Assert.Empty(index.Enumerate());
            Assert.Null(index.Lookup("x"));
            Assert.Empty(index.SearchWildcard("x"));
        }
    }

    [Fact]
    public void WildcardResultsMergeByPriorityLikeKmod()
    {
        var bytes = IndexWriter.Write(
        [
            new IndexEntry("pci:v1*", "late", 9),
            new IndexEntry("pci:v12*", "early", 1),
            new IndexEntry("pci:v1?3", "middle", 5),
            new IndexEntry("pci:v[0-9]23", "tie_a", 5),
            new IndexEntry("pci:v123", "exact", 3),
            new IndexEntry("pci:v124", "other", 0),
        ], preOrder: true);
        var index = IndexFile.Parse("test", bytes);
        // Matches arrive as tie_a, late, middle, early, exact (the '[' subtree, then '*' and '?'
        // at each level of the descent); kmod's add_value puts each before equal priorities.
        Assert.Equal(["early", "exact", "middle", "tie_a", "late"], index.SearchWildcard("pci:v123").Select(v => v.Value));
        Assert.Equal(["other"], index.SearchWildcard("pci:v124").Select(v => v.Value).Where(v => v == "other"));
        Assert.Equal("exact", index.Lookup("pci:v123"));
        Assert.Null(index.Lookup("pci:v125")); // exact lookups never treat keys as patterns
    }

    [Fact]
    public void RejectsLoopsAndLyingCounts()
    {
        // Root at 12: prefix "a", one child '*' pointing back at the root.
        var loop = Header(0x80000000 | 0x20000000 | 12).Concat("a\0"u8.ToArray()).Concat([(byte)'*', (byte)'*']).Concat(Be(0x80000000 | 0x20000000 | 12)).ToArray();
        var index = IndexFile.Parse("loop", loop);
        var error = Assert.Throws<ModuleFormatException>(() => index.Enumerate().ToList());
        Assert.Contains("twice", error.Message);
        Assert.Throws<ModuleFormatException>(() => index.SearchWildcard("ab"));
        Assert.Null(index.Lookup("a*a*a*a*")); // an exact lookup consumes the key, so it ends anyway

        var lying = Header(0x40000000 | 12).Concat(Be(0x7FFFFFFF)).Concat(Be(0)).Concat("x\0"u8.ToArray()).ToArray();
        Assert.Contains("claims", Assert.Throws<ModuleFormatException>(() => IndexFile.Parse("lying", lying)).Message);

        Assert.Contains("magic", Assert.Throws<ModuleFormatException>(() => IndexFile.Parse("m", new byte[12])).Message);
        Assert.Contains("version", Assert.Throws<ModuleFormatException>(() => IndexFile.Parse("v", Header(12).Select((b, i) => i == 5 ? (byte)3 : b).ToArray())).Message);
    }

    /// <summary>Every truncation of a small real index, then hundreds of random corruptions.</summary>
    [Fact]
    public void HostileCopiesReadOrFailCleanly()
    {
        var kernel = KernelFixtures.Plain;
        var original = System.IO.File.ReadAllBytes(File(kernel, "modules.builtin.alias.bin"));
        var probes = IndexFile.Parse("original", original).Enumerate().Select(e => e.Key).Where((_, i) => i % 10 == 0).ToList();
        var watch = Stopwatch.StartNew();
        int read = 0, rejected = 0;
        void Try(byte[] bytes)
        {
            try
            {
                var index = IndexFile.Parse("damaged", bytes);
                _ = index.Enumerate().Count();
                foreach (var probe in probes)
                {
                    index.Lookup(probe);
                    index.SearchWildcard(probe);
                }
                index.SearchWildcard("pci:v00008086d00001234sv*");
                read++;
            }
            catch (ModuleFormatException)
            {
                rejected++;
            }
        }
        for (var length = 0; length < original.Length; length++) Try(original[..length]);
        var random = new Random(42);
        for (var variant = 0; variant < 600; variant++)
        {
            var bytes = (byte[])original.Clone();
            var flips = 1 + random.Next(4);
            for (var f = 0; f < flips; f++)
            {
                var at = random.Next(bytes.Length);
                bytes[at] = variant % 3 == 0 ? (byte)random.Next(256) : (byte)(bytes[at] ^ (1 << random.Next(8)));
            }
            Try(bytes);
        }
        Assert.True(rejected > original.Length / 2, $"{rejected} rejected, {read} read");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
    }

    private static byte[] Header(uint root) => [.. Be(IndexFile.Magic), .. Be(0x00020001), .. Be(root)];

    private static byte[] Be(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
