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
/// The write side of modprobe for one call: the module tree, the modprobe.d configuration and
/// the kernel (through <see cref="IKernel"/>), offering plan → execute → persist for loading and
/// unloading. Plans and results are data; failures are <see cref="ModuleOperationException"/>s
/// and <see cref="ModulePlanException"/>s carrying facts. Nothing here asks anyone anything: the
/// caller decides per step through the shouldRun callbacks.
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

    /// <summary>Opens the tree of <paramref name="kernelVersion"/> and the configuration under the kernel's root.</summary>
    /// <exception cref="KernelNotInstalledException">No modules are installed for that version.</exception>
    public static ModprobeSession Open(IKernel kernel, string kernelVersion, ModprobeSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var tree = ModuleDirectory.Open(kernel.Root, kernelVersion);
        return new ModprobeSession(kernel, tree, ModprobeConfig.Load(kernel.Root, tree), options);
    }

    public IKernel Kernel { get; }
    public ModuleDirectory Tree { get; }
    public ModprobeConfig Config { get; }
    public ModuleResolver Resolver { get; }

    /// <summary>Whether this process may change the kernel at all: its privilege and the kernel's module support.</summary>
    /// <exception cref="KernelModulesUnsupportedException">No loadable-module support.</exception>
    /// <exception cref="ModulePrivilegeException">No CAP_SYS_MODULE.</exception>
    public void EnsureCanChangeKernel()
    {
        if (Kernel.ModulesUnsupportedReason is { } reason)
            throw new KernelModulesUnsupportedException(Kernel.Release, "/proc/modules", reason);
        if (!Kernel.CallerMayManageModules)
            throw new ModulePrivilegeException();
    }

    private KernelSnapshot Snapshot() => Kernel.SupportsModules ? new KernelSnapshot(Kernel.GetLoadedModules()) : KernelSnapshot.Empty;

    /// <summary>Plans modprobe NAME: dependencies, softdeps, install commands, what is already loaded.</summary>
    /// <exception cref="ModulePlanException">The name is not a module, is not installed, or is blacklisted.</exception>
    public LoadProposal PlanLoad(string nameOrAlias, IReadOnlyList<ModuleParameter> parameters, LoadPlanOptions? options = null) =>
        Propose(new LoadPlanner(Resolver, Snapshot(), options).PlanLoad(nameOrAlias, parameters), parameters);

    /// <summary>
    /// The modules of a plan that modprobe.d disables the CIS way (an install command that loads
    /// nothing), each with the line that does it: running such a plan would only run that command
    /// and fail, so the caller refuses it or re-plans without install commands.
    /// </summary>
    public IReadOnlyList<Configuration.ModuleLoadBlock> DisabledModules(LoadPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return [.. plan.Steps.Where(s => s.Action == LoadAction.RunInstallCommand)
            .Select(s => Configuration.ModuleLoadBlock.Of(Config, s.Module)).Where(b => b.Disabled)];
    }

    /// <summary>Plans insmod PATH: that file only, with only these parameters.</summary>
    public LoadProposal PlanInsert(string path, IReadOnlyList<ModuleParameter> parameters, LoadPlanOptions? options = null) =>
        Propose(new LoadPlanner(Resolver, Snapshot(), options).PlanInsert(path, parameters), parameters);

    private LoadProposal Propose(LoadPlan plan, IReadOnlyList<ModuleParameter> parameters)
    {
        var warnings = plan.Warnings.Select(w => new PlanWarning(PlanWarningKind.Planner, null, w)).ToList();
        if (parameters.Count > 0 && plan.Steps.LastOrDefault(s => s.Role == LoadRole.Target) is { } target)
        {
            if (!target.ChangesKernel && Kernel.SupportsModules && Kernel.GetLoadedModule(target.Module) is { } loaded)
            {
                foreach (var p in parameters)
                    if (loaded.Parameters.TryGetValue(p.Name, out var current) && current != p.Value)
                        warnings.Add(new PlanWarning(PlanWarningKind.DifferentParameter, target.Module,
                            $"{target.Module} is already loaded with {p.Name}={current}, not {p.Value}; parameters only apply when a module is loaded.", p.Name));
            }
            else if (target.Action == LoadAction.Insert && target.Path is { } path && DeclaredParameters(path) is { } declared)
            {
                foreach (var p in parameters)
                    if (!declared.Contains(p.Name.Replace('-', '_')))
                        warnings.Add(new PlanWarning(PlanWarningKind.UndeclaredParameter, target.Module,
                            $"{target.Module} declares no parameter '{p.Name}'; the kernel ignores it.", p.Name));
            }
        }
        return new LoadProposal(plan, warnings);
    }

    /// <summary>The parameter names a module file declares, or null when it cannot be read (then nothing is said about them).</summary>
    private static HashSet<string>? DeclaredParameters(string path)
    {
        try
        {
            return ModuleFileReader.Read(path).Parameters.Select(p => p.Name.Replace('-', '_')).ToHashSet(StringComparer.Ordinal);
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
    /// <remarks><paramref name="shouldRun"/>: Asked before each step that changes the kernel; false skips it.</remarks>
    public LoadExecution ExecuteLoad(LoadPlan plan, InsertOptions options, Func<LoadStep, bool>? shouldRun = null, CancellationToken cancel = default) =>
        new LoadExecutor(_loader, _options.RunCommand, _options.Progress).Execute(plan, options, shouldRun, cancel);

    /// <summary>Plans modprobe -r NAME (or rmmod NAME).</summary>
    /// <exception cref="ModulePlanException">Not a module, built in, or in use.</exception>
    public UnloadProposal PlanUnload(string nameOrAlias, UnloadPlanOptions? options = null)
    {
        var plan = new UnloadPlanner(Resolver, Snapshot(), options).PlanUnload(nameOrAlias);
        return new UnloadProposal(plan, plan.Warnings.Select(w => new PlanWarning(PlanWarningKind.Planner, null, w)).ToList());
    }

    /// <summary>Carries out an unload plan.</summary>
    /// <remarks><paramref name="force"/>: delete_module with O_TRUNC (kernels with CONFIG_MODULE_FORCE_UNLOAD).</remarks>
    /// <remarks><paramref name="wait"/>: How long to keep retrying a module whose use count is still dropping.</remarks>
    public UnloadExecution ExecuteUnload(UnloadPlan plan, bool force, TimeSpan wait, Func<UnloadStep, bool>? shouldRun = null) =>
        new UnloadExecutor(_loader, _options.RunCommand, _options.Progress, _options.Clock, _options.Sleep).Execute(plan, force, wait, shouldRun);

    /// <summary>Makes the module load at boot with these parameters (modules-load.d, modprobe.d).</summary>
    /// <exception cref="PersistenceConflictException">A file of that name exists and was not written by us.</exception>
    public IReadOnlyList<PersistedFile> Persist(string module, IReadOnlyList<ModuleParameter> parameters) =>
        new ModulePersistence(Kernel.Root, _options.PersistenceHeader).Persist(module, parameters);

    /// <summary>What <see cref="Persist"/> would do to each file (the exact paths), writing nothing.</summary>
    /// <exception cref="PersistenceConflictException">A file of that name exists and was not written by us.</exception>
    public IReadOnlyList<PersistedFile> PreviewPersist(string module, IReadOnlyList<ModuleParameter> parameters) =>
        new ModulePersistence(Kernel.Root, _options.PersistenceHeader).PreviewPersist(module, parameters);

    /// <summary>Removes the boot-time files <see cref="Persist"/> wrote for the module.</summary>
    public IReadOnlyList<PersistedFile> Unpersist(string module) =>
        new ModulePersistence(Kernel.Root, _options.PersistenceHeader).Unpersist(ModuleName.Normalize(module));

    /// <summary>What <see cref="Unpersist"/> would do to each file (the exact paths), deleting nothing.</summary>
    public IReadOnlyList<PersistedFile> PreviewUnpersist(string module) =>
        new ModulePersistence(Kernel.Root, _options.PersistenceHeader).PreviewUnpersist(ModuleName.Normalize(module));

    /// <summary>The module as loaded now, or null.</summary>
    public LoadedModule? Loaded(string module) => Kernel.SupportsModules ? Kernel.GetLoadedModule(module) : null;
}
