using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Tests.Loading;

/// <summary>
/// One write-side scenario, replayed against any <see cref="IKernel"/>: the fake kernel in the
/// unit tests, and the real kernel inside the QEMU guests (tests/KernelBench/guest/Replay.Tests.ps1
/// loads this assembly and runs it against both there). The transcript holds what the caller
/// sees: per step its status, errno and cause, what was rolled back, use counts and holders, and
/// whether the kernel logged the line that explains a refusal. What may differ between kernels
/// without meaning anything (the syscall used, log wording beyond the key phrase) is left out.
/// Deliberately free of test-framework types, so the guest can run it.
/// </summary>
public static class ReplayScenario
{
    /// <summary>The modules the scenario touches; it leaves none of them loaded.</summary>
    public static readonly string[] Modules = ["msdos", "fat", "snd_dummy", "snd_pcm", "snd_timer", "snd", "soundcore"];

    public static IReadOnlyList<string> Run(IKernel kernel, ModuleDirectory tree)
    {
        var t = new List<string>();
        var session = new ModprobeSession(kernel, tree, ModprobeConfig.Parse("", "replay.conf", null));
        var insert = new InsertOptions();

        // 1. msdos by path, without fat: the kernel does not know fat's symbols.
        var byPath = session.ExecuteLoad(session.PlanInsert(tree.FindModule("msdos")!.Path, []).Plan, insert);
        t.Add($"insert msdos alone: {Describe(byPath)}");
        t.Add($"  kernel logged an unknown symbol: {Logged(byPath, "Unknown symbol")}");

        // 2. msdos by name: fat first.
        t.Add($"load msdos: {Describe(session.ExecuteLoad(session.PlanLoad("msdos", []).Plan, insert))}");
        t.Add($"  {State(kernel, "fat")}; {State(kernel, "msdos")}");

        // 3. Again: nothing to do.
        var again = session.PlanLoad("msdos", []);
        t.Add($"load msdos again: planned no-op {again.Plan.IsNoOp}; {Describe(session.ExecuteLoad(again.Plan, insert))}");

        // 4. fat while msdos uses it: the planner refuses, and so does the kernel when asked anyway.
        try
        {
            session.PlanUnload("fat");
            t.Add("plan remove fat: planned");
        }
        catch (ModuleInUseException e)
        {
            t.Add($"plan remove fat: refused, in use by {string.Join(",", e.Holders)}");
        }
        t.Add($"remove fat anyway: {Describe(session.ExecuteUnload(Direct("fat"), false, TimeSpan.Zero))}");

        // 5. fat inserted again by hand: EEXIST, which a plan takes as loaded meanwhile.
        var fatAgain = session.ExecuteLoad(Insert(tree, "fat"), insert);
        t.Add($"insert fat again: {Describe(fatAgain)}");

        // 6. A chain whose last step the kernel refuses (a parameter value it cannot parse): rolled back.
        var chain = session.ExecuteLoad(session.PlanLoad("snd-dummy", ModuleParameters.Parse("pcm_devs=notanumber")).Plan, insert);
        t.Add($"load snd-dummy pcm_devs=notanumber: {Describe(chain)}");
        t.Add($"  kernel logged the invalid parameter: {Logged(chain, "invalid for parameter")}");

        // 7. msdos with its unused dependency; then msdos again, gone already.
        t.Add($"remove msdos with unused dependencies: {Describe(session.ExecuteUnload(session.PlanUnload("msdos", new UnloadPlanOptions { RemoveUnusedDependencies = true }).Plan, false, TimeSpan.Zero))}");
        t.Add($"remove msdos again: {Describe(session.ExecuteUnload(Direct("msdos"), false, TimeSpan.Zero))}");

        t.Add($"left loaded: {string.Join(",", Modules.Where(m => kernel.GetLoadedModule(m) is not null).DefaultIfEmpty("none"))}");
        return t;
    }

    private static UnloadPlan Direct(string module) =>
        new(module, "", [new UnloadStep(module, UnloadAction.Remove, false, UnloadRole.Target, null, null)], []);

    private static LoadPlan Insert(ModuleDirectory tree, string module) =>
        new LoadPlanner(new ModuleResolver(tree, ModprobeConfig.Parse("", "replay.conf", null)), KernelSnapshot.Empty).PlanInsert(tree.FindModule(module)!.Path, []);

    private static string Describe(LoadExecution r) =>
        string.Join(", ", r.Steps.Select(s => $"{s.Step.Module} {s.Status}{(s.Errno is { } e ? $" errno {e}" : "")}{(s.Error is { } x ? $" {x.Cause}" : "")}"))
        + (r.RolledBack.Count > 0 ? $"; rolled back {string.Join(",", r.RolledBack)}" : "")
        + (r.RollbackFailures.Count > 0 ? $"; stayed {string.Join(",", r.RollbackFailures)}" : "");

    private static string Describe(UnloadExecution r) =>
        string.Join(", ", r.Steps.Select(s => $"{s.Step.Module} {s.Status}{(s.Errno is { } e ? $" errno {e}" : "")}"
            + (s.Error is ModuleRemoveException x ? $" {x.Cause} holders {string.Join(",", x.Holders.DefaultIfEmpty("none"))}" : "")));

    private static string State(IKernel kernel, string module) => kernel.GetLoadedModule(module) is { } m
        ? $"{m.Name} used by {m.ReferenceCount} ({string.Join(",", m.UsedBy.DefaultIfEmpty("none"))})"
        : $"{module} not loaded";

    private static bool Logged(LoadExecution r, string phrase) =>
        r.Steps.Any(s => s.KernelMessages?.Any(l => l.Contains(phrase, StringComparison.Ordinal)) == true);
}
