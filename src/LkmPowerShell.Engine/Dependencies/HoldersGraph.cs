using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Dependencies;

/// <summary>
/// The loaded kernel's graph, from /sys/module/X/holders (what lsmod shows as "Used by"): a holder
/// H of X is a loaded module that uses X's symbols, so X cannot go before H. Read from a snapshot,
/// so a planted /proc/modules and /sys/module under a root answer like a live kernel.
/// </summary>
public static class HoldersGraph
{
    /// <summary>Every holder edge of the loaded modules, in lsmod's order.</summary>
    public static IReadOnlyList<DependencyRow> All(KernelSnapshot kernel, SystemRoot root, string kernelVersion)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var rows = new List<DependencyRow>();
        foreach (var module in kernel.Modules.Where(m => !m.IsBuiltin))
            foreach (var holder in module.UsedBy)
                rows.Add(HolderRow("*", rows, holder, module.Name, root, kernelVersion));
        return rows;
    }

    /// <summary>
    /// One loaded module: the target, then what it holds, to the end (its loaded dependencies);
    /// with <paramref name="reverse"/> instead its holders (all the way up with <paramref name="recurse"/>).
    /// Null when the module is not loaded.
    /// </summary>
    public static IReadOnlyList<DependencyRow>? For(KernelSnapshot kernel, SystemRoot root, string kernelVersion, string name, bool reverse, bool recurse)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.Find(name) is not { } target) return null;
        var rows = new List<DependencyRow>
        {
            new(name, 1, target.Name, null, DependencyRole.Target, target.IsBuiltin ? DependencyAction.Builtin : DependencyAction.AlreadyLoaded,
                DependencyKind.None, null, "target", null, false, null, [], kernelVersion, null),
        };
        var seen = new HashSet<string>(StringComparer.Ordinal) { target.Name };
        var work = new Queue<string>([target.Name]);
        while (work.TryDequeue(out var current))
        {
            if (reverse)
            {
                foreach (var holder in kernel.Find(current)?.UsedBy ?? [])
                    if (seen.Add(holder))
                    {
                        rows.Add(HolderRow(name, rows, holder, current, root, kernelVersion));
                        if (recurse) work.Enqueue(holder);
                    }
                continue;
            }
            // What `current` holds: the loaded modules that list it among their holders.
            foreach (var held in kernel.Modules.Where(m => m.UsedBy.Contains(current)))
                if (seen.Add(held.Name))
                {
                    var source = $"{root.Resolve(SysModuleReader.SystemPath)}/{held.Name}/holders";
                    rows.Add(new DependencyRow(name, rows.Count + 1, held.Name, null, DependencyRole.Dependency, DependencyAction.AlreadyLoaded,
                        DependencyKind.Holder, current, $"held by {current}{DependencyRow.Cite(source)}", source, false, null, [], kernelVersion, null) { NeededBy = [current] });
                    work.Enqueue(held.Name);
                }
        }
        return rows;
    }

    private static DependencyRow HolderRow(string query, List<DependencyRow> rows, string holder, string held, SystemRoot root, string kernelVersion)
    {
        var source = $"{root.Resolve(SysModuleReader.SystemPath)}/{held}/holders";
        return new DependencyRow(query, rows.Count + 1, holder, null, DependencyRole.Holder, DependencyAction.AlreadyLoaded, DependencyKind.Holder, held,
            $"holds {held}{DependencyRow.Cite(source)}", source, false, null, [], kernelVersion, null) { Needs = [held] };
    }
}
