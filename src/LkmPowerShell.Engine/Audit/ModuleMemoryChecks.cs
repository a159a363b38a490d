namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// Module-area memory against every list: each allocation in /proc/vmallocinfo's module area
/// should hold a listed module (its /sys/module sections, its kallsyms symbols, its
/// /proc/modules address), or a BPF program, kprobe page or ftrace trampoline (kallsyms'
/// pseudo-owners). One that holds none of these is code that no list shows: a module that
/// unlinked itself, even one that also deleted its sysfs entry.
/// BPF's JIT allocates there too, through its own allocators: a 2 MiB pack shared by small
/// programs (bpf_prog_pack_alloc, 6.1+) and whole pages for big ones (bpf_jit_alloc_exec). Its
/// programs show in kallsyms only when net.core.bpf_jit_kallsyms is on, so on a clean system such
/// an area often holds no listed symbol: it is BPF's by who allocated it, and reported as BPF.
/// </summary>
internal static class ModuleMemoryChecks
{
    /// <summary>The callers /proc/vmallocinfo names for BPF's JIT memory (the pack's allocator may be inlined as alloc_new_pack).</summary>
    private static readonly string[] BpfAllocators = ["bpf_prog_pack_alloc", "alloc_new_pack", "bpf_jit_alloc_exec", "bpf_jit_binary_alloc", "bpf_jit_binary_pack_alloc"];

    /// <summary>Whether the area was allocated by BPF's JIT (by the caller vmallocinfo prints: "bpf_prog_pack_alloc+0x3b/0x80").</summary>
    internal static bool IsBpf(ModuleMemoryArea area)
    {
        var fields = area.Line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 3 && BpfAllocators.Any(a => fields[2].StartsWith(a + "+", StringComparison.Ordinal) || fields[2] == a);
    }

    public static IEnumerable<AuditFinding> Check(KernelModuleViews views)
    {
        ArgumentNullException.ThrowIfNull(views);
        if (views.ProcModules is null) yield break;
        if (views.ModuleAreas is not { } areas || views.OwnedSymbolAddresses is not { } symbols)
        {
            yield return new AuditFinding(AuditSeverity.Informational, AuditCheck.Coverage, AuditFinding.KernelSubject,
                $"The module memory cross-view did not run: {views.ModuleAreasProblem ?? "/proc/kallsyms hides addresses from this reader (run as root)"}.", [], [], null);
            yield break;
        }

        var known = new List<ulong>(symbols);
        foreach (var e in views.ProcModules)
            if (e.Address is { } a) known.Add(a);
        foreach (var name in views.ListedNames)
            if (views.SectionAddresses.TryGetValue(name, out var s)) known.AddRange(s);
        known.Sort();

        var unexplained = new Dictionary<string, List<ModuleMemoryArea>>(StringComparer.Ordinal);
        var bpf = new List<ModuleMemoryArea>();
        foreach (var area in areas)
        {
            if (AnyWithin(known, area)) continue;
            if (IsBpf(area))
            {
                bpf.Add(area);
                continue;
            }
            // Memory of a module that is hidden from the list but still in sysfs is named by its sections.
            var owner = views.SectionAddresses.Where(p => !views.ListedNames.Contains(p.Key) && p.Value.Any(area.Contains))
                .Select(p => p.Key).FirstOrDefault() ?? AuditFinding.KernelSubject;
            if (!unexplained.TryGetValue(owner, out var list)) unexplained[owner] = list = [];
            list.Add(area);
        }

        if (bpf.Count > 0)
            yield return new AuditFinding(AuditSeverity.Informational, AuditCheck.ModuleMemory, AuditFinding.KernelSubject,
                $"{bpf.Count} module-area allocation{(bpf.Count == 1 ? "" : "s")} ({bpf.Sum(a => (long)(a.End - a.Start))} bytes) {(bpf.Count == 1 ? "is" : "are")} BPF's: the JIT's memory for compiled BPF programs, not a module's.",
                [.. bpf.Select(a => $"{ModuleMemoryReader.SystemPath}: {a.Line}"),
                    "allocated by BPF's JIT (bpf_prog_pack_alloc, bpf_jit_alloc_exec); its programs show in /proc/kallsyms as [bpf] only with net.core.bpf_jit_kallsyms=1"],
                [], null);

        foreach (var (owner, list) in unexplained.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var evidence = list.Select(a => $"{ModuleMemoryReader.SystemPath}: {a.Line}").ToList();
            evidence.Add("no listed module's /sys/module sections, no /proc/modules address and no /proc/kallsyms symbol (module, [bpf] or [__builtin__*]) lies in it");
            var whose = owner == AuditFinding.KernelSubject
                ? "code that no list shows (a module that unlinked itself and deleted its /sys/module entry leaves exactly this)"
                : $"{owner}, which /proc/modules does not list";
            // Named by a hidden module's own sysfs sections, the memory corroborates another view:
            // High. Named by nothing, it is this view's word alone: Medium, asking for a look. Both
            // Debian kernels, booted clean with kernel.kptr_restrict=1 (the bench's
            // GhostAfterPlain suite), show no such memory once BPF's JIT areas are BPF's and stale
            // init sections explain nothing; an unlisted benign user of the module area this view
            // does not know yet would show here, hence not High.
            var severity = owner == AuditFinding.KernelSubject ? AuditSeverity.Medium : AuditSeverity.High;
            yield return new AuditFinding(severity, AuditCheck.ModuleMemory, owner,
                $"{list.Count} module-area allocation{(list.Count == 1 ? "" : "s")} ({list.Sum(a => (long)(a.End - a.Start))} bytes) hold{(list.Count == 1 ? "s" : "")} {whose}.",
                [.. evidence], [AttackTechnique.KernelModules, AttackTechnique.Rootkit],
                "Memory that no list accounts for is how a module that hides itself completely still shows. Treat the machine as compromised: keep a memory image (the addresses above locate the code), and reinstall or boot trusted media.");
        }
    }

    private static bool AnyWithin(List<ulong> sorted, ModuleMemoryArea area)
    {
        var i = sorted.BinarySearch(area.Start);
        if (i < 0) i = ~i;
        return i < sorted.Count && sorted[i] < area.End;
    }
}
