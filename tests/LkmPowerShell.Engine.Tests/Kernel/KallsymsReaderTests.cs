using System.Diagnostics;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace LkmPowerShell.Engine.Tests.Kernel;

public class KallsymsReaderTests(ITestOutputHelper output)
{
    // The kernel's format: "%px %c %s" and, for a module's symbols, "\t[%s]".
    private const string Sample =
        "0000000000000000 A fixed_percpu_data\n" +
        "ffffffff81000000 T _stext\n" +
        "ffffffff810e5a30 T schedule\n" +
        "ffffffff82a00100 D jiffies\n" +
        "ffffffffc09f1000 t fat_cache_init\t[fat]\n" +
        "ffffffffc09f2000 T fat_date_unix2dos\t[fat]\n" +
        "ffffffffc0a1b000 t msdos_lookup\t[msdos]\n" +
        "ffffffffc0a1c000 t bpf_prog_6deef7357e7b4530_sd_fw_egress\t[bpf]\n";

    private static string Hidden => string.Join('\n', Sample.Split('\n').Select(l => l.Length > 16 ? new string('0', 16) + l[16..] : l));

    [Fact]
    public void ParsesAddressTypeNameAndOwner()
    {
        using var root = new FakeKernelRoot().File("/proc/kallsyms", Sample);
        var reader = new KallsymsReader(root.Root);
        var all = reader.Read().ToList();
        Assert.Equal(8, all.Count);
        Assert.Equal(new KallsymsEntry("fixed_percpu_data", 0, 'A', null), all[0]);
        Assert.Equal(new KallsymsEntry("schedule", 0xffffffff810e5a30, 'T', null), all[2]);
        Assert.Equal(new KallsymsEntry("fat_date_unix2dos", 0xffffffffc09f2000, 'T', "fat"), all[5]);
        Assert.Same(all[4].Module, all[5].Module);   // owners are interned
        Assert.Equal("bpf", all[7].Module);
        Assert.False(reader.AreAddressesHidden());
        Assert.True(all[5].IsGlobal);
        Assert.False(all[4].IsGlobal);
    }

    [Fact]
    public void HiddenAddressesAreNullNotZero()
    {
        using var root = new FakeKernelRoot().File("/proc/kallsyms", Hidden);
        var reader = new KallsymsReader(root.Root);
        Assert.True(reader.AreAddressesHidden());
        Assert.All(reader.Read(), s => Assert.Null(s.Address));
        Assert.Equal("(hidden) T schedule", reader.Read(SymbolNameFilters.Exact(["schedule"])).Single().ToString());
    }

    [Fact]
    public void FiltersByNameAndOwner()
    {
        using var root = new FakeKernelRoot().File("/proc/kallsyms", Sample);
        var reader = new KallsymsReader(root.Root);
        Assert.Equal(["schedule", "jiffies"], reader.Read(SymbolNameFilters.Exact(["schedule", "jiffies", "nope"])).Select(s => s.Name));
        Assert.Equal(["fat_cache_init", "fat_date_unix2dos"], reader.Read(SymbolNameFilters.Prefix("fat_")).Select(s => s.Name));
        Assert.Equal(["fat_date_unix2dos"], reader.Read(SymbolNameFilters.Wildcard("FAT_*2DOS")).Select(s => s.Name));
        Assert.Equal(["msdos_lookup"], reader.Read(owner: m => m == "msdos").Select(s => s.Name));
        Assert.Equal(4, reader.Read(owner: m => m is null).Count());
    }

    [Theory]
    [InlineData("fat_*", "fat_date_unix2dos", true)]
    [InlineData("*unix2dos", "fat_date_unix2dos", true)]
    [InlineData("fat_?ate*", "fat_date_unix2dos", true)]
    [InlineData("fat_[a-d]ate*", "fat_date_unix2dos", true)]
    [InlineData("fat_[e-z]ate*", "fat_date_unix2dos", false)]
    [InlineData("*a*a*a*", "fat_date_unix2dos", false)]
    [InlineData("*a*a*", "fat_date_unix2dos", true)]
    [InlineData("schedule", "schedule_timeout", false)]
    [InlineData("sched*", "schedule", true)]
    [InlineData("`*x", "*x", true)]
    [InlineData("`*x", "ax", false)]
    [InlineData("*", "", true)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    public void WildcardsMatchLikePowerShell(string pattern, string name, bool match) =>
        Assert.Equal(match, SymbolNameFilters.Wildcard(pattern)(name));

    [Fact]
    public void ExactIsCaseSensitiveWildcardIsNot()
    {
        Assert.False(SymbolNameFilters.Exact(["Schedule"])("schedule"));
        Assert.True(SymbolNameFilters.Wildcard("Schedule")("schedule"));
        Assert.False(SymbolNameFilters.Wildcard("Schedule", ignoreCase: false)("schedule"));
    }

    [Theory]
    [InlineData("ffffffff81000000 T\n")]
    [InlineData("ffffffff81000000 Tschedule\n")]
    [InlineData("xyz T schedule\n")]
    [InlineData("ffffffff81000000 T schedule\tfat\n")]
    public void MalformedLineNamesFileAndOffset(string bad)
    {
        using var root = new FakeKernelRoot().File("/proc/kallsyms", "ffffffff81000000 T _stext\n" + bad);
        var ex = Assert.Throws<ModuleFormatException>(() => new KallsymsReader(root.Root).Read().ToList());
        Assert.Equal(26, ex.Offset);
        Assert.EndsWith("proc/kallsyms", ex.FilePath);
    }

    /// <summary>The factory form makes each symbol from exactly the parts the record form carries, filter and hidden addresses alike.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FactoryGetsWhatTheRecordsHold(bool hidden)
    {
        using var root = new FakeKernelRoot().File("/proc/kallsyms", hidden ? Hidden : Sample);
        var reader = new KallsymsReader(root.Root);
        Assert.Equal(reader.Read().Select(e => e.ToString()), reader.Read(null, (n, a, t, m) => new KallsymsEntry(n, a, t, m).ToString() + "").ToList());
        Assert.Equal(["fat_cache_init", "fat_date_unix2dos"], reader.Read(SymbolNameFilters.Prefix("fat_"), (n, a, t, m) => n));
        var made = reader.Read(null, (n, a, t, m) => new Tuple<string, ulong?, char, string?>(n, a, t, m)).ToList();
        Assert.Equal(("fat_date_unix2dos", hidden ? (ulong?)null : 0xffffffffc09f2000, 'T', "fat"), (made[5].Item1, made[5].Item2, made[5].Item3, made[5].Item4));
        Assert.Same(made[4].Item4, made[5].Item4); // owners interned here too
        Assert.Throws<ArgumentNullException>(() => reader.Read<string>(null, null!));
    }

    /// <summary>Any of several filters: matches what one of them matches, and allocates nothing per name (it runs once a line).</summary>
    [Fact]
    public void AnyMatchesEachFilterAndAllocatesNothingPerName()
    {
        var any = SymbolNameFilters.Any([SymbolNameFilters.Wildcard("tcp_v4_*", ignoreCase: false), SymbolNameFilters.Exact(["schedule"])]);
        Assert.True(any("tcp_v4_connect"));
        Assert.True(any("schedule"));
        Assert.False(any("Schedule"));
        Assert.False(any("udp_v4_rcv"));
        var one = SymbolNameFilters.Prefix("fat_");
        Assert.Same(one, SymbolNameFilters.Any([one]));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
            any("udp_v4_rcv");
        // Nothing per call: one object a call would be 240 KB here. The runtime itself may allocate
        // a few KB on this thread meanwhile (tiered compilation replacing the loop's code), so the
        // bound is well below one allocation a call, not zero.
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 16_384);
    }

    [Fact]
    public void LinesSpanningBufferRefillsParse()
    {
        // Far more than one 64 KiB buffer, so lines straddle refills.
        var lines = Enumerable.Range(0, 20000).Select(i => $"{0xffffffffc0000000UL + (ulong)i * 16:x16} t sym_{i}\t[mod{i % 7}]");
        using var root = new FakeKernelRoot().File("/proc/kallsyms", string.Join('\n', lines) + "\n");
        var all = new KallsymsReader(root.Root).Read().ToList();
        Assert.Equal(20000, all.Count);
        Assert.Equal("sym_19999", all[^1].Name);
        Assert.Equal(0xffffffffc0000000UL + 19999 * 16, all[^1].Address);
        Assert.Equal("mod0", all[^1].Module);   // 19999 % 7
    }

    [Fact]
    public void MissingFile()
    {
        using var root = new FakeKernelRoot();
        var reader = new KallsymsReader(root.Root);
        Assert.False(reader.Exists);
        Assert.Throws<FileNotFoundException>(() => reader.Read().First());
    }

    [Fact]
    public void TheHostKernelsSymbols()
    {
        var reader = new KallsymsReader(SystemRoot.Host);
        var hidden = reader.AreAddressesHidden();

        // Warm up once (JIT), then time the three ways a cmdlet reads the file.
        _ = reader.Read(static _ => false).Count();
        var sw = Stopwatch.StartNew();
        var all = reader.Read().ToList();
        var tAll = sw.Elapsed.TotalMilliseconds;

        var before = GC.GetAllocatedBytesForCurrentThread();
        sw.Restart();
        var scanned = 0;
        var none = reader.Read(_ => { scanned++; return false; }).Count();
        var tNone = sw.Elapsed.TotalMilliseconds;
        var allocNone = GC.GetAllocatedBytesForCurrentThread() - before;

        sw.Restart();
        var schedule = reader.Read(SymbolNameFilters.Exact(["schedule"])).ToList();
        var tExact = sw.Elapsed.TotalMilliseconds;

        output.WriteLine($"{all.Count} symbols, addresses hidden: {hidden}; all materialised {tAll:F1} ms, " +
                         $"filter rejecting all {tNone:F1} ms ({allocNone} bytes allocated), exact name {tExact:F1} ms");

        Assert.True(all.Count > 100_000, $"only {all.Count} symbols");
        Assert.Equal(0, none);
        Assert.Equal(all.Count, scanned);
        Assert.True(allocNone < 200_000, $"{allocNone} bytes allocated scanning without a match");
        var s = Assert.Single(schedule);
        Assert.Equal('T', s.Type);
        Assert.Null(s.Module);
        Assert.Equal(hidden, s.Address is null);
        if (!hidden) Assert.True(s.Address > 0xffff000000000000UL, $"schedule at {s.Address:x}");
        Assert.All(all, x => Assert.True(char.IsAsciiLetter(x.Type) || x.Type == '?', $"type '{x.Type}' of {x.Name}"));
        Assert.Contains(all, x => x.Type == 't');
        Assert.Contains(all, x => x.Name == "_stext");
        // Inside the QEMU bench, module symbols carry their owner; this host has none.
        if (File.Exists("/proc/modules") && File.ReadAllText("/proc/modules").Length > 0)
            Assert.Contains(all, x => x.Module is not null);
    }
}
