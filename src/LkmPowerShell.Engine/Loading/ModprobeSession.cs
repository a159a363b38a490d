using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>What a plan warning is about, so a front end can add its own advice.</summary>
public enum PlanWarningKind
{
    /// <summary>From the planner: a softdep left out, a dependency that stays loaded, ...</summary>
    Planner,
    /// <summary>The module is already loaded with another value of a parameter; parameters apply only when loading.</summary>
    DifferentParameter,
    /// <summary>The module file declares no parameter of that name (the kernel ignores it with a log line).</summary>
    UndeclaredParameter,
}

/// <summary>A warning about a plan, as facts: the module, the parameter when one is concerned, and the message.</summary>
public sealed record PlanWarning(PlanWarningKind Kind, string? Module, string Message, string? Parameter = null)
{
    public override string ToString() => Message;
}

/// <summary>A load plan with the warnings found while making it.</summary>
public sealed record LoadProposal(LoadPlan Plan, IReadOnlyList<PlanWarning> Warnings);

/// <summary>An unload plan with the warnings found while making it.</summary>
public sealed record UnloadProposal(UnloadPlan Plan, IReadOnlyList<PlanWarning> Warnings);

/// <summary>Choices that hold for a whole session.</summary>
public sealed record ModprobeSessionOptions
{
    /// <summary>How install and remove commands run; /bin/sh -c by default.</summary>
    public CommandRunner? RunCommand { get; init; }

    /// <summary>Where lines for a detailed log go (the syscalls and their answers).</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>The clock and the sleep of the unload wait loop (a test makes both virtual).</summary>
    public TimeProvider? Clock { get; init; }
    public Action<TimeSpan>? Sleep { get; init; }

    /// <summary>The first line of boot-time files written on request, naming who wrote them (so they can be told from hand-written ones).</summary>
    public string PersistenceHeader { get; init; } = ModulePersistence.DefaultHeader;
}

/// <summary>
/// The write side of modprobe: the module tree, the modprobe.d configuration and the kernel
/// (through <see cref="IKernel"/>). <see cref="Load"/> and <see cref="Unload"/> are the whole of an
/// Import or Remove: one call, a decider asked per step and per file, a report back (as kmod's
/// kmod_module_probe_insert_module is one call with callbacks). The parts (plan, execute, persist)
/// stay public for dry runs and tests. Plans and results are data; failures are
/// <see cref="ModuleOperationException"/>s and <see cref="ModulePlanException"/>s carrying facts.
/// </summary>
public sealed class ModprobeSession
{
    private readonly ModprobeSessionOptions _options;
    private readonly ModuleLoader _loader;

    public ModprobeSession(IKernel kernel, ModuleDirectory tree, ModprobeConfig config, ModprobeSessionOptions? options = null)
    {
        Kernel = kernel ?? throw new ArgumentNullException(nameof(kernel));
        Tree = tree ?? throw new ArgumentNullException(nameof(tree));
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Resolver = new ModuleResolver(tree, config);
        _options = options ?? new ModprobeSessionOptions();
        _loader = new ModuleLoader(kernel);
    }

    public IKernel Kernel { get; }
    public ModuleDirectory Tree { get; }
    public ModprobeConfig Config { get; }
    public ModuleResolver Resolver { get; }

    /// <summary>
    /// modprobe NAME... or insmod PATH, whole: plans each query; refuses a module disabled in
    /// modprobe.d (unless <see cref="LoadOptions.IgnoreDisabled"/>), a path the kernel would refuse,
    /// a name that is not a module; asks <paramref name="decider"/> before each step and before
    /// writing boot-time files; rolls back a failed chain; reports what became of each query.
    /// </summary>
    public LoadReport Load(LoadRequest request, IChangeDecider decider)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(decider);
        return new LoadCall(this, request, decider).Run();
    }

    /// <summary>modprobe -r NAME... (or rmmod), whole: plans, asks per step and per file, executes, reports.</summary>
    public UnloadReport Unload(UnloadRequest request, IChangeDecider decider)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(decider);
        return new UnloadCall(this, request, decider).Run();
    }

    /// <summary>Plans modprobe NAME: dependencies, softdeps, install commands, what is already loaded.</summary>
    /// <exception cref="ModulePlanException">The name is not a module, is not installed, or is blacklisted.</exception>
    public LoadProposal PlanLoad(string nameOrAlias, IReadOnlyList<ModuleParameter> parameters, LoadPlanOptions? options = null)
    {
        var snapshot = KernelSnapshot.Read(Kernel);
        var plan = new LoadPlanner(Resolver, snapshot, options).PlanLoad(nameOrAlias, parameters);
        return new LoadProposal(plan, WarningsFor(plan, parameters, snapshot));
    }

    /// <summary>Plans insmod PATH: that file only, with only these parameters.</summary>
    public LoadProposal PlanInsert(string path, IReadOnlyList<ModuleParameter> parameters, LoadPlanOptions? options = null)
    {
        var snapshot = KernelSnapshot.Read(Kernel);
        var plan = new LoadPlanner(Resolver, snapshot, options).PlanInsert(path, parameters);
        return new LoadProposal(plan, WarningsFor(plan, parameters, snapshot));
    }

    /// <summary>The planner's warnings, and what the caller's parameters will not do: change a loaded module, or set a parameter the module does not declare.</summary>
    internal List<PlanWarning> WarningsFor(LoadPlan plan, IReadOnlyList<ModuleParameter> parameters, KernelSnapshot kernel)
    {
        var warnings = plan.Warnings.Select(w => new PlanWarning(PlanWarningKind.Planner, null, w)).ToList();
        if (parameters.Count > 0 && plan.Steps.LastOrDefault(s => s.Role == LoadRole.Target) is { } target)
        {
            if (!target.ChangesKernel && kernel.Find(target.Module) is { } loaded)
            {
                foreach (var p in parameters)
                    if (loaded.Parameters.TryGetValue(p.Name, out var current) && current != p.Value)
                        warnings.Add(new PlanWarning(PlanWarningKind.DifferentParameter, target.Module,
                            $"{target.Module} is already loaded with {p.Name}={current}, not {p.Value}; parameters only apply when a module is loaded.", p.Name));
            }
            else if (target.Action == LoadAction.Insert && target.Path is { } path && DeclaredParameters(path) is { } declared)
            {
                foreach (var p in parameters)
                    if (!declared.Contains(ModuleParameters.NormalizeName(p.Name)))
                        warnings.Add(new PlanWarning(PlanWarningKind.UndeclaredParameter, target.Module,
                            $"{target.Module} declares no parameter '{p.Name}'; the kernel ignores it.", p.Name));
            }
        }
        return warnings;
    }

    /// <summary>The parameter names a module file declares, or null when it cannot be read (then nothing is said about them).</summary>
    private static HashSet<string>? DeclaredParameters(string path)
    {
        try
        {
            return ModuleFileReader.Read(path).Parameters.Select(p => ModuleParameters.NormalizeName(p.Name)).ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModuleFormatException or NativeLibraryMissingException)
        {
            return null;
        }
    }

    /// <summary>Why the kernel would refuse this file, found before asking it; null when nothing is foreseen.</summary>
    public ModuleWouldBeRefusedException? Preflight(ModuleFileInfo file, bool ignoreVersions) =>
        InsertPreflight.Check(file, Kernel, Tree, ignoreVersions);

    /// <summary>Carries out a load plan, rolling back what it loaded when a required step fails.</summary>
    /// <remarks><paramref name="shouldRun"/>: Asked before each step that changes the kernel; false skips it, as a dry run does.</remarks>
    public LoadExecution ExecuteLoad(LoadPlan plan, InsertOptions options, Func<LoadStep, bool>? shouldRun = null, CancellationToken cancel = default) =>
        new LoadExecutor(_loader, _options.RunCommand, _options.Progress).Execute(plan, options, shouldRun, cancel);

    /// <summary>Carries out a load plan; a step <paramref name="decide"/> answers No to is not there for the steps that need it.</summary>
    public LoadExecution ExecuteLoad(LoadPlan plan, InsertOptions options, Func<LoadStep, ChangeDecision> decide, CancellationToken cancel = default) =>
        new LoadExecutor(_loader, _options.RunCommand, _options.Progress).Execute(plan, options, decide, cancel);

    /// <summary>As above, and <paramref name="builtin"/> told of each built-in step in its place.</summary>
    internal LoadExecution ExecuteLoad(LoadPlan plan, InsertOptions options, Func<LoadStep, ChangeDecision> decide, Action<LoadStep> builtin) =>
        new LoadExecutor(_loader, _options.RunCommand, _options.Progress).Execute(plan, options, decide, default, builtin);

    /// <summary>Plans modprobe -r NAME (or rmmod NAME).</summary>
    /// <exception cref="ModulePlanException">Not a module, built in, or in use.</exception>
    public UnloadProposal PlanUnload(string nameOrAlias, UnloadPlanOptions? options = null)
    {
        var plan = new UnloadPlanner(Resolver, KernelSnapshot.Read(Kernel), options).PlanUnload(nameOrAlias);
        return new UnloadProposal(plan, plan.Warnings.Select(w => new PlanWarning(PlanWarningKind.Planner, null, w)).ToList());
    }

    /// <summary>Carries out an unload plan.</summary>
    /// <remarks><paramref name="force"/>: delete_module with O_TRUNC (kernels with CONFIG_MODULE_FORCE_UNLOAD).</remarks>
    /// <remarks><paramref name="wait"/>: How long to keep retrying a module whose use count is still dropping.</remarks>
    public UnloadExecution ExecuteUnload(UnloadPlan plan, bool force, TimeSpan wait, Func<UnloadStep, bool>? shouldRun = null) =>
        Unloader().Execute(plan, force, wait, shouldRun);

    /// <summary>Carries out an unload plan; a required step <paramref name="decide"/> answers No to ends it there.</summary>
    public UnloadExecution ExecuteUnload(UnloadPlan plan, bool force, TimeSpan wait, Func<UnloadStep, ChangeDecision> decide) =>
        Unloader().Execute(plan, force, wait, decide);

    private UnloadExecutor Unloader() => new(_loader, _options.RunCommand, _options.Progress, _options.Clock, _options.Sleep);

    private ModulePersistence Persistence() => new(Kernel.Root, _options.PersistenceHeader);

    /// <summary>Makes the module load at boot with these parameters (modules-load.d, modprobe.d).</summary>
    /// <exception cref="PersistenceConflictException">A file of that name exists and was not written by us.</exception>
    public IReadOnlyList<PersistedFile> Persist(string module, IReadOnlyList<ModuleParameter> parameters) =>
        Persistence().Persist(module, parameters);

    /// <summary>What <see cref="Persist"/> would do to each file (the exact paths), writing nothing.</summary>
    /// <exception cref="PersistenceConflictException">A file of that name exists and was not written by us.</exception>
    public IReadOnlyList<PersistedFile> PreviewPersist(string module, IReadOnlyList<ModuleParameter> parameters) =>
        Persistence().PreviewPersist(module, parameters);

    /// <summary>Removes the boot-time files <see cref="Persist"/> wrote for the module.</summary>
    public IReadOnlyList<PersistedFile> Unpersist(string module) =>
        Persistence().Unpersist(ModuleName.Normalize(module));

    /// <summary>What <see cref="Unpersist"/> would do to each file (the exact paths), deleting nothing.</summary>
    public IReadOnlyList<PersistedFile> PreviewUnpersist(string module) =>
        Persistence().PreviewUnpersist(ModuleName.Normalize(module));
}
