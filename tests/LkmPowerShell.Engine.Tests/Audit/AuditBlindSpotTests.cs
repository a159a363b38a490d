using LkmPowerShell.Engine.Audit;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Audit;

/// <summary>
/// The audit's blind spots, on planted /proc and /sys files: a hiding module loaded after another
/// tainting module (stale .init* section addresses must not explain its memory), BPF's own
/// module-area memory (BPF, never a rootkit), and rkhunter's known rootkit names (named, never
/// the only ground of a Critical finding).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class AuditBlindSpotTests
{
    private const ulong OE = (1UL << 12) | (1UL << 13);
    private const ulong GhostBase = 0xffffffffc0f00000UL;

    private static AuditFinding[] Above(AuditReport r) => r.Findings.Where(f => f.Severity > AuditSeverity.Informational).ToArray();

    /// <summary>
    /// lkmaudit_plain loaded first (it takes the taint and the log lines), then the ghost, which
    /// unlinked itself and deleted its sysfs entry. The kernel freed plain's .init.text and gave
    /// that memory to the ghost, but /sys/module/lkmaudit_plain/sections/.init.text still shows the
    /// old address, inside the ghost's area.
    /// </summary>
    private static AuditRoot PlainThenGhost()
    {
        var g = new AuditRoot();
        g.Loaded("lkmaudit_plain", taint: "OE").Taint(OE)
            .Log("lkmaudit_plain: loading out-of-tree module taints kernel.",
                "lkmaudit_plain: module verification failed: signature and/or required key missing - tainting kernel");
        g.Fake.File("/sys/module/lkmaudit_plain/sections/.init.text", $"0x{GhostBase + 0x40:x16}\n");
        g.Fake.File("/sys/module/lkmaudit_plain/sections/.init.data", $"0x{GhostBase + 0x1000:x16}\n");
        // The loader keeps the full symbol and string tables in init memory too (the 6.1 guest showed them there).
        g.Fake.File("/sys/module/lkmaudit_plain/sections/.symtab", $"0x{GhostBase + 0x2000:x16}\n");
        g.Fake.File("/sys/module/lkmaudit_plain/sections/.strtab", $"0x{GhostBase + 0x2498:x16}\n");
        g.Memory(GhostBase, 0x4000);
        return g;
    }

    [Fact]
    public void A_ghost_after_another_tainting_module_is_not_explained_by_that_modules_stale_init_sections()
    {
        using var g = PlainThenGhost();
        var r = ModuleAudit.Run(g.Root);
        var memory = Assert.Single(r.Findings, f => f.Check == AuditCheck.ModuleMemory);
        Assert.Equal((AuditSeverity.Medium, AuditFinding.KernelSubject), (memory.Severity, memory.Subject));
        Assert.StartsWith("1 module-area allocation (16384 bytes) holds code that no list shows", memory.Message);
        // The ghost is the one finding above Informational: the audit is not clean.
        Assert.False(r.IsClean);
        Assert.Contains($"/proc/vmallocinfo: 0x{GhostBase:x16}-0x{GhostBase + 0x4000:x16}   16384 module_alloc+0x2c/0x40 pages=4 vmalloc N0=4", memory.Evidence);
        // The taint and the log name only the first module, which is listed: they explain nothing away and accuse nothing.
        Assert.DoesNotContain(r.Findings, f => f.Check is AuditCheck.UnexplainedTaint or AuditCheck.KernelLog);
    }

    [Fact]
    public void A_module_still_initialising_keeps_its_init_sections()
    {
        using var g = new AuditRoot();
        g.Loaded("slowinit", state: "Loading");
        g.Fake.File("/sys/module/slowinit/initstate", "coming\n");
        // Its init code lives in an area of its own until init returns.
        g.Fake.File("/sys/module/slowinit/sections/.init.text", $"0x{GhostBase + 0x40:x16}\n");
        g.Memory(GhostBase, 0x4000);
        Assert.DoesNotContain(ModuleAudit.Run(g.Root).Findings, f => f.Check == AuditCheck.ModuleMemory);

        // The same once live: the address is stale, the area unexplained.
        g.Fake.File("/sys/module/slowinit/initstate", "live\n");
        Assert.Contains(ModuleAudit.Run(g.Root).Findings, f => f.Check == AuditCheck.ModuleMemory && f.Subject == AuditFinding.KernelSubject);
    }

    [Theory]
    [InlineData("bpf_prog_pack_alloc+0x1b0/0x240", 0x200000UL)]
    [InlineData("bpf_jit_alloc_exec+0x11/0x20", 0x3000UL)]
    public void Bpf_memory_without_symbols_is_reported_as_bpf_not_as_a_rootkit(string caller, ulong size)
    {
        using var g = new AuditRoot();
        // net.core.bpf_jit_kallsyms=0 (the default): no [bpf] symbol in kallsyms points into it.
        g.Memory(0xffffffffc1000000UL, size, caller);
        var r = ModuleAudit.Run(g.Root);
        Assert.Empty(Above(r));
        Assert.True(r.IsClean);
        var memory = Assert.Single(r.Findings, f => f.Check == AuditCheck.ModuleMemory);
        Assert.Equal((AuditSeverity.Informational, AuditFinding.KernelSubject), (memory.Severity, memory.Subject));
        Assert.Equal($"1 module-area allocation ({size} bytes) is BPF's: the JIT's memory for compiled BPF programs, not a module's.", memory.Message);
        Assert.Empty(memory.Techniques);
        Assert.Null(memory.Remedy);
        Assert.DoesNotContain(r.Findings, f => (f.Remedy ?? "").Contains("compromised", StringComparison.Ordinal));
        Assert.Contains(memory.Evidence, e => e.Contains(caller, StringComparison.Ordinal));
    }

    [Fact]
    public void Bpf_memory_beside_a_ghost_leaves_the_ghost_reported()
    {
        using var g = PlainThenGhost();
        g.Memory(0xffffffffc1000000UL, 0x200000, "bpf_prog_pack_alloc+0x1b0/0x240");
        var memory = ModuleAudit.Run(g.Root).Findings.Where(f => f.Check == AuditCheck.ModuleMemory).ToArray();
        Assert.Equal(2, memory.Length);
        Assert.Contains(memory, f => f.Message.Contains("is BPF's", StringComparison.Ordinal));
        Assert.Contains(memory, f => f.Message.StartsWith("1 module-area allocation (16384 bytes) holds code that no list shows", StringComparison.Ordinal));
    }

    [Fact]
    public void Known_rootkit_symbols_are_named_with_family_and_source_and_stay_below_critical()
    {
        using var g = new AuditRoot();
        g.Loaded("diamorphine", taint: "OE").Taint(OE)
            .Kallsyms("ffffffffc0a10100 t hacked_getdents\t[diamorphine]")
            .Kallsyms("ffffffffc0a10200 t hacked_kill\t[diamorphine]")
            .Kallsyms("ffffffff81234560 T h4x_kill");
        var r = ModuleAudit.Run(g.Root);
        var named = r.Findings.Where(f => f.Check == AuditCheck.KnownRootkitName).ToArray();
        Assert.Equal(2, named.Length);
        var diamorphine = Assert.Single(named, f => f.Subject == "diamorphine");
        Assert.Equal(AuditSeverity.High, diamorphine.Severity);
        Assert.StartsWith("/proc/kallsyms has 2 symbols named as the Diamorphine rootkit's (hacked_getdents, hacked_kill), in module diamorphine", diamorphine.Message);
        Assert.Contains("/proc/kallsyms: ffffffffc0a10100 t hacked_getdents [diamorphine]", diamorphine.Evidence);
        Assert.Contains("known name: hacked_kill (Diamorphine; rkhunter 1.4 rootkit symbol list)", diamorphine.Evidence);
        var kbeast = Assert.Single(named, f => f.Subject == AuditFinding.KernelSubject);
        Assert.Contains("KBeast", kbeast.Message);
        // Names alone never make a Critical finding: the module is listed and in sysfs, so nothing else is wrong.
        Assert.DoesNotContain(r.Findings, f => f.Severity == AuditSeverity.Critical);
        Assert.Empty(r.HiddenModules);
        // A similar but different name is not a match (whole names only).
        using var h = new AuditRoot();
        h.Kallsyms("ffffffff81234560 T hacked_getdents64_helper").Kallsyms("ffffffff81234570 T diamorphine_x");
        Assert.DoesNotContain(ModuleAudit.Run(h.Root).Findings, f => f.Check == AuditCheck.KnownRootkitName);
    }

    [Fact]
    public void Known_bad_module_file_names_in_the_tree_are_named_and_stay_medium()
    {
        using var g = new AuditRoot();
        g.Install("extra/diamorphine.ko", AuditRoot.TinyModule("diamorphine", "license=GPL"));
        g.Install("updates/wkmr26.ko.xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]);
        g.Install("kernel/fs/fat/vfat.ko", AuditRoot.TinyModule("vfat", "license=GPL"));
        var r = ModuleAudit.Run(g.Root);
        var named = r.Findings.Where(f => f.Check == AuditCheck.KnownRootkitName).OrderBy(f => f.Subject, StringComparer.Ordinal).ToArray();
        Assert.Equal(["diamorphine", "wkmr26"], named.Select(f => f.Subject));
        Assert.All(named, f => Assert.Equal(AuditSeverity.Medium, f.Severity));
        Assert.StartsWith($"The module tree of kernel {AuditRoot.Release} holds diamorphine.ko, a file name rkhunter 1.4 LKM_BADNAMES lists as a known bad kernel module (Diamorphine)", named[0].Message);
        Assert.Contains(named[0].Evidence, e => e.StartsWith("file: ", StringComparison.Ordinal) && e.EndsWith("/extra/diamorphine.ko", StringComparison.Ordinal));
        Assert.Contains("wkmr26.ko.xz", named[1].Message);
        Assert.DoesNotContain(r.Findings, f => f.Severity == AuditSeverity.Critical);
    }

    [Fact]
    public void Module_file_names_match_whole_with_a_compression_suffix_only()
    {
        Assert.DoesNotContain(KnownRootkitNames.Symbols.Keys, n => n.Length == 0 || n.Contains(' '));
        Assert.Null(KnownRootkitNames.ModuleFile("fat.ko"));
        Assert.Equal("Knark", KnownRootkitNames.ModuleFile("knark.o")!.Family);
        Assert.Equal("Diamorphine", KnownRootkitNames.ModuleFile("diamorphine.ko.zst")!.Family);
        Assert.Null(KnownRootkitNames.ModuleFile("diamorphine.ko.bak"));
    }
}

/// <summary>Debian's real trees: no shipped module file has a known-bad name (no false alarm on a stock system).</summary>
[Trait("Layer", "Oracle")]
public class KnownRootkitNamesOracleTests
{
    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void No_shipped_module_file_has_a_known_bad_name(string flavour)
    {
        var k = KernelFixtures.Load(flavour);
        var files = k.ModuleFiles().ToArray();
        Assert.True(files.Length > 4000);
        Assert.DoesNotContain(files, f => KnownRootkitNames.ModuleFile(Path.GetFileName(f)) is not null);
        Assert.Empty(KnownRootkitChecks.ModuleFiles(new SystemRoot(k.Root), k.Version));
    }
}
