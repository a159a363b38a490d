using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Planner;

/// <summary>Choices for <see cref="UnloadPlanner"/>.</summary>
public sealed record UnloadPlanOptions
{
    /// <summary>
    /// modprobe -r: also remove dependencies nothing else uses any more, and the soft dependencies
    /// in reverse. Off: only the module itself (rmmod), plus its remove command.
    /// </summary>
    public bool RemoveUnusedDependencies { get; init; }

    /// <summary>Remove the loaded modules that use the target first (<c>modprobe -r --remove-holders</c>).</summary>
    public bool RemoveHolders { get; init; }

    /// <summary>Ignore remove commands and soft dependencies (<c>modprobe -r -i</c>).</summary>
    public bool IgnoreCommands { get; init; }

    /// <summary>Do not refuse a module in use: the caller forces its removal (<c>rmmod -f</c>).</summary>
    public bool AllowInUse { get; init; }

    /// <summary>
    /// The caller retries while the use count drops (<c>modprobe -r --wait</c>): a module whose
    /// references are held only by processes (an open device, a mount) is planned. One used by other
    /// loaded modules is still refused: those references go only when the holders are removed, so
    /// waiting cannot help (kmod waits the whole time and then fails).
    /// </summary>
    public bool WaitForUseCount { get; init; }

    public static UnloadPlanOptions Default { get; } = new();
}

/// <summary>
/// modprobe -r without the syscalls (kmod's rmmod_do_module): post-softdeps in reverse → holders
/// (optional) → the module, refused when in use → dependencies whose use count drops to 0 →
/// pre-softdeps in reverse. The use counts are simulated on a <see cref="KernelSnapshot"/>: each
/// planned removal releases one reference on every module it held.
/// </summary>
/// <remarks>
/// Differences from kmod 30, on purpose: unused dependencies are walked in modules.dep order
/// (the reverse of load order), so a chain unwinds fully; kmod walks load order and reads live
/// counts, so a dependency still held by another dependency of the same module stays loaded. A
/// loaded module that no index knows (loaded by path) is still removable by name. Soft-dependency
/// cycles are cut instead of recursing.
/// </remarks>
internal sealed class UnloadPlanner
{
    private readonly ModuleResolver _resolver;
    private readonly KernelSnapshot _kernel;
    private readonly UnloadPlanOptions _options;

    public UnloadPlanner(ModuleResolver resolver, KernelSnapshot kernel, UnloadPlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(kernel);
        _resolver = resolver;
        _kernel = kernel;
        _options = options ?? UnloadPlanOptions.Default;
    }

    /// <exception cref="InvalidModuleNameException">A path or otherwise unusable name.</exception>
    /// <exception cref="ModuleNotFoundException">Neither loaded nor known to any index or config.</exception>
    /// <exception cref="ModuleBuiltinException">The module is built into the kernel.</exception>
    /// <exception cref="ModuleInUseException">The module is used by loaded modules or holds references.</exception>
    public UnloadPlan PlanUnload(string nameOrAlias)
    {
        ModuleName.Validate(nameOrAlias);
        var resolution = _resolver.Resolve(nameOrAlias);
        IReadOnlyList<ResolvedModule> targets = resolution.Modules;
        if (!resolution.Found)
        {
            // rmmod removes by name what modprobe -r cannot find: a module loaded from a path.
            if (_kernel.Find(nameOrAlias) is { } loaded) targets = [new ResolvedModule(loaded.Name, null, ModuleSource.ModuleName)];
            // Without a tree nothing tells a module from a typo: as rmmod, a name that is not loaded has nothing to remove.
            else if (!_resolver.Tree.IsInstalled) targets = [new ResolvedModule(ModuleName.Normalize(nameOrAlias), null, ModuleSource.ModuleName)];
            else throw new ModuleNotFoundException(nameOrAlias, _resolver.Tree.KernelVersion, _resolver.Tree.Path);
        }
        var run = new Run(this);
        foreach (var target in targets)
            run.Visit(target.Name, target.Source == ModuleSource.RemoveCommand ? target.Command : null,
                UnloadRole.Target, null, topLevel: true);
        return new UnloadPlan(nameOrAlias, _resolver.Tree.KernelVersion, run.Steps, run.Warnings);
    }

    private sealed class Run(UnloadPlanner planner)
    {
        public List<UnloadStep> Steps { get; } = [];
        public List<string> Warnings { get; } = [];
        private readonly HashSet<string> _removed = new(StringComparer.Ordinal);
        private readonly HashSet<string> _visiting = new(StringComparer.Ordinal);

        /// <summary>
        /// How deep soft dependencies (and holders) are followed: real chains are a few links long;
        /// a hostile modprobe.d can make one as long as it likes, and this walk recurses once a link.
        /// </summary>
        public const int MaxDepth = 100;

        private UnloadPlanOptions Options => planner._options;
        private ModprobeConfig Config => planner._resolver.Config;
        private ModuleDirectory Tree => planner._resolver.Tree;

        /// <summary>kmod's rmmod_do_module. Top level errors throw; nested ones (softdeps) become warnings.</summary>
        public void Visit(string name, ConfigCommand? command, UnloadRole role, string? of, bool topLevel)
        {
            if (_removed.Contains(name) || !_visiting.Add(name)) return;
            if (_visiting.Count > MaxDepth)
            {
                _visiting.Remove(name);
                Warnings.Add($"{name} ({role switch { UnloadRole.Holder => "holder", UnloadRole.SoftdepPre => "softdep pre", _ => "softdep post" }} of {of}) and what it brings stay: " +
                    $"the chain of soft dependencies is more than {MaxDepth} modules deep, which no real configuration is; check modprobe.d.");
                return;
            }
            try
            {
                VisitCore(name, command, role, of, topLevel);
            }
            finally
            {
                _visiting.Remove(name);
            }
        }

        private void VisitCore(string name, ConfigCommand? command, UnloadRole role, string? of, bool topLevel)
        {
            var optional = role is not (UnloadRole.Target or UnloadRole.Holder);
            if (!Options.IgnoreCommands) command ??= Config.RemoveCommandFor(name);
            else command = null;
            var (pre, post) = Options.RemoveUnusedDependencies && !Options.IgnoreCommands ? SoftDependencies(name) : ([], []);

            var loaded = planner._kernel.Find(name);
            if (command is null)
            {
                if (loaded is { IsBuiltin: true } || (loaded is null && Tree.IsBuiltin(name)))
                {
                    // kmod: softdeps and holders that are built in are skipped quietly; the target is an error.
                    if (role == UnloadRole.Target) throw new ModuleBuiltinException(name, Tree.KernelVersion);
                    return;
                }
                if (loaded is null)
                {
                    if (role == UnloadRole.Target) Steps.Add(new UnloadStep(name, UnloadAction.AlreadyAbsent, false, role, of, null));
                    return;
                }
            }

            // 1. post-softdeps, last first; their failures do not matter.
            for (var i = post.Count - 1; i >= 0; i--) Nested(post[i], UnloadRole.SoftdepPost, name);

            // 2. the modules that use this one, when asked; any failure stops here.
            if (Options.RemoveHolders && loaded is not null)
                foreach (var holder in Enumerable.Reverse(Holders(loaded)))
                    Visit(holder, null, UnloadRole.Holder, name, topLevel);

            // 3. the module itself, unless something still uses it.
            if (command is null && loaded is not null && !Options.AllowInUse && Uses(loaded) > 0
                && !(Options.WaitForUseCount && Holders(loaded).Count == 0))
            {
                var error = new ModuleInUseException(name, Uses(loaded), Holders(loaded));
                if (topLevel && !optional) throw error;
                Warnings.Add(error.Message + " It stays loaded.");
                return;
            }
            Steps.Add(new UnloadStep(name, command is null ? UnloadAction.Remove : UnloadAction.RunRemoveCommand, optional, role, of, command?.Command));
            _removed.Add(name);

            // 4. dependencies nobody uses any more (modules.dep order: the one loaded last goes first).
            if (command is null && Options.RemoveUnusedDependencies)
            {
                foreach (var dep in Tree.Dependencies(name) ?? [])
                {
                    if (_removed.Contains(dep.Name) || planner._kernel.Find(dep.Name) is not { IsBuiltin: false } d) continue;
                    if (Uses(d) == 0)
                    {
                        Steps.Add(new UnloadStep(dep.Name, UnloadAction.Remove, true, UnloadRole.UnusedDependency, name, null));
                        _removed.Add(dep.Name);
                    }
                    else
                    {
                        Warnings.Add($"{dep.Name} (a dependency of {name}) stays loaded: " +
                            (Holders(d).Count > 0 ? $"{string.Join(", ", Holders(d))} still use{(Holders(d).Count == 1 ? "s" : "")} it." : $"its reference count stays at {Uses(d)}."));
                    }
                }
            }

            // 5. pre-softdeps, last first.
            for (var i = pre.Count - 1; i >= 0; i--) Nested(pre[i], UnloadRole.SoftdepPre, name);
        }

        private void Nested(string name, UnloadRole role, string of)
        {
            try
            {
                Visit(name, null, role, of, topLevel: false);
            }
            catch (ModulePlanException e)
            {
                Warnings.Add($"{name} ({role switch { UnloadRole.SoftdepPre => "softdep pre", _ => "softdep post" }} of {of}) stays: {e.Message}");
            }
        }

        /// <summary>The reference count once the planned removals have released theirs.</summary>
        private int Uses(LoadedModule m) =>
            Math.Max(0, (m.ReferenceCount ?? m.UsedBy.Length) - m.UsedBy.Count(h => _removed.Contains(ModuleName.Normalize(h))));

        private List<string> Holders(LoadedModule m) =>
            [.. m.UsedBy.Select(ModuleName.Normalize).Where(h => !_removed.Contains(h))];

        /// <summary>The soft dependencies, resolved to module names (every softdep line, like the load planner's default).</summary>
        private (List<string> Pre, List<string> Post) SoftDependencies(string name)
        {
            var pre = new List<string>();
            var post = new List<string>();
            foreach (var line in Config.SoftDependenciesFor(name))
            {
                pre.AddRange(line.Pre.SelectMany(Lookup));
                post.AddRange(line.Post.SelectMany(Lookup));
            }
            return (pre, post);
        }

        private IEnumerable<string> Lookup(string softdep)
        {
            try
            {
                return planner._resolver.Resolve(softdep).Modules.Select(m => m.Name);
            }
            catch (InvalidModuleNameException)
            {
                return [];
            }
        }
    }
}
