using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// One <see cref="ModprobeSession.Unload"/> call: for each name plan (refusing a module in use or
/// built in), ask the decider per step, execute, un-persist, and report, with the module as it was
/// before and as it is after. The kernel is read once, and again only after this call changed it.
/// </summary>
internal sealed class UnloadCall(ModprobeSession session, UnloadRequest request, IChangeDecider decider)
{
    private IKernel Kernel => session.Kernel;
    private readonly ChangeAsker _ask = new(session.Kernel, decider);
    private KernelSnapshot _snapshot = KernelSnapshot.Empty;

    public UnloadReport Run()
    {
        _snapshot = KernelSnapshot.Read(Kernel);
        var items = new List<UnloadOutcome>();
        foreach (var name in request.Names)
            items.Add(_ask.Stopped is null ? One(name) : new UnloadOutcome { Query = name, Module = ModuleName.Normalize(name), NotReached = true });
        return new UnloadReport(items, _ask.Stopped);
    }

    private UnloadOutcome One(string name)
    {
        var before = _snapshot.Find(name);
        var outcome = new UnloadOutcome { Query = name, Module = before?.Name ?? ModuleName.Normalize(name), Before = before, After = before };
        // rmmod NAME needs only the kernel; modprobe -r finds what the module depends on in the tree.
        if (request.Has(UnloadOptions.RemoveUnusedDependencies) && !session.Tree.IsInstalled)
            return outcome with { Refusal = new ModuleTreeMissingException(name, session.Tree, $"Removing the dependencies of '{name}' that nothing else uses") };
        UnloadPlan plan;
        try
        {
            plan = new UnloadPlanner(session.Resolver, _snapshot, new UnloadPlanOptions
            {
                RemoveUnusedDependencies = request.Has(UnloadOptions.RemoveUnusedDependencies),
                AllowInUse = request.Has(UnloadOptions.SkipInUseCheck),
                WaitForUseCount = request.Wait > TimeSpan.Zero,
            }).PlanUnload(name);
        }
        catch (Exception e) when (LoadCall.IsPlanFailure(e))
        {
            return outcome with { Refusal = e };
        }
        outcome = outcome with { Plan = plan, Warnings = [.. plan.Warnings.Select(w => new PlanWarning(PlanWarningKind.Planner, null, w))] };
        if (!plan.IsNoOp)
        {
            var forced = request.Has(UnloadOptions.SkipInUseCheck);
            var execution = session.ExecuteUnload(plan, forced, request.Wait, step => _ask.KernelChange(d => d.DecideUnload(step, forced && step.Action == UnloadAction.Remove)));
            outcome = outcome with { Execution = execution };
            if (execution.ChangedKernel)
            {
                _snapshot = KernelSnapshot.Read(Kernel);
                outcome = outcome with { After = _snapshot.Find(name) };
            }
            if (!execution.Succeeded || _ask.Stopped is not null)
                return outcome;
        }
        if (request.Has(UnloadOptions.Persist))
            outcome = outcome with { Persisted = _ask.Files(outcome.Module, loadAtBoot: false, () => session.PreviewUnpersist(outcome.Module), () => session.Unpersist(outcome.Module)) };
        return outcome;
    }
}
