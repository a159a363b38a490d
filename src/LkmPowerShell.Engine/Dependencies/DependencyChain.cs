using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Dependencies;

/// <summary>
/// A plan as rows: the outcome of <see cref="ModprobeSession.Load"/> or <see cref="ModprobeSession.Unload"/>
/// made with <see cref="DryRunDecider"/> (the call Import-/Remove-KernelModule -WhatIf make), told as
/// data: each step with its role, action, the module that needs it and the file and line that say
/// so. Nothing here plans: the steps and their order are the planner's.
/// </summary>
public static class DependencyChain
{
    /// <summary>The rows of one load outcome, in execution order; empty when no plan was made (the outcome's Refusal says why).</summary>
    public static IReadOnlyList<DependencyRow> FromLoad(ModprobeSession session, LoadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Plan is not { } plan) return [];
        var closures = new Closures(session.Tree);
        var planned = plan.Steps.Select(s => s.Module).Distinct(StringComparer.Ordinal).ToList();
        var rows = new List<DependencyRow>();
        var weakSeen = new HashSet<string>(StringComparer.Ordinal);
        var depSource = System.IO.Path.Join(session.Tree.Path, ModulesDepFile.FileName);
        foreach (var step in plan.Steps)
        {
            var (role, kind) = step.Role switch
            {
                LoadRole.Target => (DependencyRole.Target, DependencyKind.None),
                LoadRole.Dependency => (DependencyRole.Dependency, DependencyKind.Depends),
                LoadRole.SoftdepPre => (DependencyRole.SoftdepPre, DependencyKind.Softdep),
                _ => (DependencyRole.SoftdepPost, DependencyKind.Softdep),
            };
            IReadOnlyList<string> neededBy = [];
            string reason;
            string? source = null;
            switch (step.Role)
            {
                case LoadRole.Dependency:
                    neededBy = closures.DirectNeeders(step.Module, planned) is { Count: > 0 } direct ? direct : [step.Of!];
                    reason = $"needed by {string.Join(", ", neededBy)}";
                    source = depSource;
                    break;
                case LoadRole.SoftdepPre or LoadRole.SoftdepPost:
                    neededBy = [step.Of!];
                    source = SoftdepSource(session.Config, step);
                    reason = $"{(step.Role == LoadRole.SoftdepPre ? "softdep pre" : "softdep post")} of {step.Of}";
                    break;
                default:
                    reason = TargetReason(plan, step);
                    source = step.Alias is not null ? plan.Resolution.Modules.FirstOrDefault(m => m.Name == step.Module)?.ConfigSource?.ToString() : null;
                    break;
            }
            var action = step.Action switch
            {
                LoadAction.Insert => DependencyAction.Insert,
                LoadAction.RunInstallCommand => DependencyAction.InstallCommand,
                LoadAction.AlreadyLoaded => DependencyAction.AlreadyLoaded,
                LoadAction.Builtin => DependencyAction.Builtin,
                _ => DependencyAction.Unavailable,
            };
            if (step.InstallCommand is not null)
            {
                var command = session.Config.InstallCommandFor(step.Module)?.Source.ToString();
                reason += $"; install command '{step.InstallCommand}'{DependencyRow.Cite(command)}";
                source ??= command;
            }
            if (step.IsRepeat) reason += "; loaded by an earlier step";
            rows.Add(new DependencyRow(plan.Query, rows.Count + 1, step.Module, step.Path, role, action, kind, step.Of, reason + DependencyRow.Cite(source),
                source, step.Optional, step.Role == LoadRole.Dependency ? neededBy.Contains(step.Of!) : null, [], plan.KernelVersion, step.Parameters) { NeededBy = neededBy });
            if (weakSeen.Add(step.Module))
                foreach (var w in session.Config.WeakDependencies.Where(w => FnMatch.IsMatch(w.ModulePattern, step.Module)))
                    foreach (var name in w.Modules)
                        rows.Add(new DependencyRow(plan.Query, rows.Count + 1, ModuleName.Normalize(name), session.Tree.FindModule(name)?.Path, DependencyRole.Weakdep,
                            DependencyAction.NotLoaded, DependencyKind.Weakdep, step.Module, $"weakdep of {step.Module}, never loaded by modprobe{DependencyRow.Cite(w.Source.ToString())}",
                            w.Source.ToString(), true, null, [], plan.KernelVersion, null) { NeededBy = [step.Module] });
        }
        foreach (var skipped in plan.Skipped)
            rows.Add(new DependencyRow(plan.Query, rows.Count + 1, skipped.Module, session.Tree.FindModule(skipped.Module)?.Path, DependencyRole.Target,
                DependencyAction.Skipped, DependencyKind.None, null, skipped.Reason, null, true, null, [], plan.KernelVersion, null));
        return rows;
    }

    /// <summary>
    /// The rows of one unload outcome: the steps in execution order, then the target's dependencies
    /// that stay loaded, each with the reason (what still holds it).
    /// </summary>
    /// <param name="session">The session the outcome came from.</param>
    /// <param name="outcome">One item of its Unload report.</param>
    /// <param name="unusedDependencies">Whether the removal was asked to remove unused dependencies (modprobe -r) or only the module (rmmod).</param>
    public static IReadOnlyList<DependencyRow> FromUnload(ModprobeSession session, UnloadOutcome outcome, bool unusedDependencies)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Plan is not { } plan) return [];
        var rows = new List<DependencyRow>();
        var sys = session.Kernel.Root.Resolve(SysModuleReader.SystemPath);
        foreach (var step in plan.Steps)
        {
            var (role, kind) = step.Role switch
            {
                UnloadRole.Target => (DependencyRole.Target, DependencyKind.None),
                UnloadRole.Holder => (DependencyRole.Holder, DependencyKind.Holder),
                UnloadRole.UnusedDependency => (DependencyRole.UnusedDependency, DependencyKind.Depends),
                UnloadRole.SoftdepPre => (DependencyRole.SoftdepPre, DependencyKind.Softdep),
                _ => (DependencyRole.SoftdepPost, DependencyKind.Softdep),
            };
            var action = step.Action switch
            {
                UnloadAction.Remove => DependencyAction.Remove,
                UnloadAction.RunRemoveCommand => DependencyAction.RemoveCommand,
                _ => DependencyAction.AlreadyAbsent,
            };
            var source = step.Action == UnloadAction.RunRemoveCommand ? session.Config.RemoveCommandFor(step.Module)?.Source.ToString()
                : step.Role == UnloadRole.Holder ? $"{sys}/{step.Of}/holders"
                : null;
            var reason = step.Reason + (step.Command is null ? "" : $"; remove command '{step.Command}'") + (source is null ? "" : DependencyRow.Cite(source));
            rows.Add(new DependencyRow(plan.Query, rows.Count + 1, step.Module, session.Tree.FindModule(step.Module)?.Path, role, action, kind, step.Of,
                reason, source, step.Optional, null, [], plan.KernelVersion, null)
            {
                NeededBy = step.Role is UnloadRole.UnusedDependency or UnloadRole.SoftdepPre or UnloadRole.SoftdepPost && step.Of is { } of ? [of] : [],
                Needs = step.Role == UnloadRole.Holder && step.Of is { } held ? [held] : [],
            });
        }
        // What stays: each loaded dependency of the target the plan does not remove, and why.
        var snapshot = KernelSnapshot.Read(session.Kernel);
        var removed = plan.Steps.Where(s => s.ChangesKernel).Select(s => s.Module).ToHashSet(StringComparer.Ordinal);
        foreach (var target in plan.Steps.Where(s => s.Role == UnloadRole.Target).Select(s => s.Module).Distinct())
            foreach (var dependency in new Closures(session.Tree).Of(target).Reverse())
            {
                if (removed.Contains(dependency) || snapshot.Find(dependency) is not { IsBuiltin: false } loaded) continue;
                var holders = loaded.UsedBy.Where(h => !removed.Contains(h)).ToList();
                var why = holders.Count > 0 ? $"still used by {string.Join(", ", holders)}{DependencyRow.Cite($"{sys}/{dependency}/holders")}"
                    : !unusedDependencies ? "only the module itself is removed (Remove-KernelModule -RemoveUnusedDependency also removes unused dependencies)"
                    : loaded.ReferenceCount is > 0 ? $"in use (reference count {loaded.ReferenceCount}){DependencyRow.Cite($"{sys}/{dependency}/refcnt")}"
                    : "left loaded by the plan";
                rows.Add(new DependencyRow(plan.Query, rows.Count + 1, dependency, session.Tree.FindModule(dependency)?.Path, DependencyRole.Dependency,
                    DependencyAction.StaysLoaded, DependencyKind.Depends, target, $"dependency of {target} that stays loaded: {why}", null, false, null, [],
                    plan.KernelVersion, null) { NeededBy = [target] });
            }
        return rows;
    }

    private static string TargetReason(LoadPlan plan, LoadStep step)
    {
        if (step.Alias is null || step.Alias == step.Module) return "target";
        var via = plan.Resolution.Source switch
        {
            ModuleSource.ConfigAlias => "modprobe.d alias",
            ModuleSource.Symbol => "symbol",
            ModuleSource.BuiltinAlias => "built-in alias",
            _ => "alias",
        };
        return $"target, {via} '{step.Alias}'";
    }

    /// <summary>The modprobe.d (or modules.softdep) line that names this soft dependency.</summary>
    private static string? SoftdepSource(ModprobeConfig config, LoadStep step)
    {
        var lines = config.SoftDependenciesFor(step.Of!);
        bool Names(string n) => ModuleName.Normalize(n) == step.Module || (step.Alias is not null && n == step.Alias);
        var line = lines.FirstOrDefault(l => (step.Role == LoadRole.SoftdepPre ? l.Pre : l.Post).Any(Names)) ?? lines.FirstOrDefault();
        return line?.Source.ToString();
    }
}
