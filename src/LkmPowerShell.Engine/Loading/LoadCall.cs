using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// One <see cref="ModprobeSession.Load"/> call: for each name (or the one path) plan, refuse what
/// must be refused, ask the decider per step, execute with rollback, persist, and report. Every
/// policy of the load side lives here, where a fake kernel reaches it: the disabled-module rule, a
/// modprobe.d alias to nothing, the preflight of a file, the module named by its own file, what a
/// declined step means for the steps that need it. The kernel is read once, and again only after
/// this call changed it.
/// </summary>
internal sealed class LoadCall(ModprobeSession session, LoadRequest request, IChangeDecider decider)
{
    private IKernel Kernel => session.Kernel;
    private readonly ChangeAsker _ask = new(session.Kernel, decider);
    private KernelSnapshot _snapshot = KernelSnapshot.Empty;

    public LoadReport Run()
    {
        _snapshot = KernelSnapshot.Read(Kernel);
        var items = new List<LoadOutcome>();
        IReadOnlyList<string> queries = request.Path is { } path ? [path] : request.Names;
        foreach (var query in queries)
        {
            if (_ask.Stopped is not null)
                items.Add(new LoadOutcome { Query = query, NotReached = true });
            else
                items.Add(request.Path is null ? ByName(query) : ByPath(query));
        }
        return new LoadReport(items, _ask.Stopped);
    }

    private LoadPlanOptions PlanOptions(bool ignoreCommands) => LoadPlanOptions.Default with
    {
        IgnoreCommands = ignoreCommands,
        Blacklist = request.Has(LoadOptions.BlacklistEverywhere) ? BlacklistScope.Everywhere : BlacklistScope.AliasesOnly,
    };

    /// <summary>modprobe NAME.</summary>
    private LoadOutcome ByName(string name)
    {
        var outcome = new LoadOutcome { Query = name };
        // modprobe NAME finds the name, its aliases and its dependencies in the tree; insmod PATH does not.
        if (!session.Tree.IsInstalled)
            return outcome with { Refusal = new ModuleTreeMissingException(name, session.Tree, $"Loading '{name}' by name") };
        LoadPlan plan;
        try
        {
            plan = new LoadPlanner(session.Resolver, _snapshot, PlanOptions(false)).PlanLoad(name, request.Parameters);
        }
        catch (ModuleNotFoundException e) when (e.AliasTarget is not null)
        {
            // A modprobe.d alias to a module that is not installed: kmod plans nothing and a dry run
            // succeeds; a real load fails on it.
            return decider.DecideNothingToLoad(e) == ChangeDecision.Yes ? outcome with { Refusal = e } : outcome with { NothingToLoad = e };
        }
        catch (Exception e) when (IsPlanFailure(e))
        {
            return outcome with { Refusal = e };
        }
        outcome = outcome with { Plan = plan, Warnings = session.WarningsFor(plan, request.Parameters, _snapshot) };

        // A module disabled the CIS way would only run /bin/false: refused, naming the file and line;
        // with IgnoreDisabled, re-planned as modprobe --ignore-install plans it.
        var disabled = DisabledModules(plan);
        if (disabled.Count > 0)
        {
            outcome = outcome with { Disabled = disabled };
            if (!request.Has(LoadOptions.IgnoreDisabled))
                return outcome with { Refusal = new ModuleDisabledException(name, disabled) };
            try
            {
                plan = new LoadPlanner(session.Resolver, _snapshot, PlanOptions(true)).PlanLoad(name, request.Parameters);
            }
            catch (Exception e) when (IsPlanFailure(e))
            {
                return outcome with { Refusal = e };
            }
            outcome = outcome with { Plan = plan };
        }
        return Carry(outcome, plan);
    }

    /// <summary>insmod PATH: the file alone, named by the module inside it, checked before the kernel is asked.</summary>
    private LoadOutcome ByPath(string path)
    {
        var outcome = new LoadOutcome { Query = path };
        ModuleFileInfo file;
        LoadPlan plan;
        try
        {
            file = ModuleFileReader.Read(path);
            plan = new LoadPlanner(session.Resolver, _snapshot, PlanOptions(false)).PlanInsert(path, request.Parameters, file.InternalName ?? file.Name);
        }
        catch (Exception e) when (IsPlanFailure(e) || e is NativeLibraryMissingException)
        {
            return outcome with { Refusal = e };
        }
        outcome = outcome with { Plan = plan, Warnings = session.WarningsFor(plan, request.Parameters, _snapshot) };
        // What the kernel would refuse (another release, unsigned under enforcement, missing
        // symbols) is said before asking anyone, with the modules that would provide the symbols.
        // An offline image has no kernel to ask, so nothing to foresee.
        if (!plan.IsNoOp && !Kernel.IsOffline
            && InsertPreflight.Check(file, Kernel, session.Tree, request.Has(LoadOptions.SkipVersionCheck)) is { } refusal)
            return outcome with { Refusal = refusal };
        return Carry(outcome, plan);
    }

    /// <summary>Executes, persists and reads back the final state.</summary>
    private LoadOutcome Carry(LoadOutcome outcome, LoadPlan plan)
    {
        // A plan of built-ins only changes nothing, but is still shown, as kmod's --show-depends shows it.
        if (!plan.IsNoOp || plan.Steps.Any(s => s.Action == LoadAction.Builtin))
        {
            var risk = (IgnoresDisabled: outcome.Disabled.Select(b => b.Module).ToHashSet(StringComparer.Ordinal), Skip: request.Has(LoadOptions.SkipVersionCheck));
            var insert = new InsertOptions
            {
                IgnoreVermagic = risk.Skip,
                IgnoreModversions = risk.Skip,
                AllowKernelDecompression = !request.Has(LoadOptions.NoKernelDecompression),
            };
            var execution = session.ExecuteLoad(plan, insert, step => _ask.KernelChange(d => d.DecideLoad(step,
                new LoadStepRisk(risk.IgnoresDisabled.Contains(step.Module), outcome.Disabled, risk.Skip && step.Action == LoadAction.Insert))),
                step => { if (_ask.Stopped is null) decider.ShowBuiltin(step); });
            outcome = outcome with { Execution = execution };
            if (execution.ChangedKernel)
                _snapshot = KernelSnapshot.Read(Kernel);
            if (!execution.Succeeded || _ask.Stopped is not null)
                return outcome;
        }
        if (request.Has(LoadOptions.Persist) && plan.Steps.LastOrDefault(s => s.Role == LoadRole.Target) is { } target)
            outcome = outcome with
            {
                Persisted = _ask.Files(target.Module, loadAtBoot: true,
                    () => session.PreviewPersist(target.Module, request.Parameters), () => session.Persist(target.Module, request.Parameters)),
            };
        return outcome with { Final = [.. plan.Steps.Where(s => s.Role == LoadRole.Target).Select(s => _snapshot.Find(s.Module)).OfType<LoadedModule>()] };
    }

    /// <summary>The modules of a plan that modprobe.d disables the CIS way (an install command that loads nothing).</summary>
    private List<ModuleLoadBlock> DisabledModules(LoadPlan plan) =>
        [.. plan.Steps.Where(s => s.Action == LoadAction.RunInstallCommand)
            .Select(s => ModuleLoadBlock.Of(session.Config, s.Module)).Where(b => b.Disabled)];

    /// <summary>Why a plan cannot be made: the name, the configuration, or a file or index that cannot be read.</summary>
    internal static bool IsPlanFailure(Exception e) =>
        e is ModulePlanException or IOException or UnauthorizedAccessException or ModuleFormatException;
}
