using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Planner;

/// <summary>
/// modprobe's load order without the syscalls (kmod's kmod_module_probe_insert_module and
/// kmod_module_get_probe_list): for each module a name resolves to, every dependency (the last
/// one of its modules.dep line first) wrapped as pre-softdeps → module → post-softdeps, then the
/// module itself the same way. Soft dependencies are looked up like names, are optional, and
/// bring their own dependencies; a module visited once through a soft dependency is not visited
/// again. Weak dependencies are never loaded.
/// </summary>
internal sealed class LoadPlanner
{
    private readonly ModuleResolver _resolver;
    private readonly KernelSnapshot _kernel;
    private readonly LoadPlanOptions _options;

    public LoadPlanner(ModuleResolver resolver, KernelSnapshot kernel, LoadPlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(kernel);
        _resolver = resolver;
        _kernel = kernel;
        _options = options ?? LoadPlanOptions.Default;
    }

    private ModuleDirectory Tree => _resolver.Tree;
    private ModprobeConfig Config => _resolver.Config;

    /// <summary>Plans <c>modprobe NAME [PARAMS]</c>.</summary>
    /// <param name="nameOrAlias">A module name, alias or "symbol:NAME"; never a path.</param>
    /// <param name="userParameters">The caller's parameters for the module(s) the name resolves to (not for dependencies).</param>
    /// <exception cref="InvalidModuleNameException">A path or otherwise unusable name.</exception>
    /// <exception cref="ModuleNotFoundException">Nothing of that name, or a config alias to a module that is not installed.</exception>
    /// <exception cref="ModuleBlacklistedException">With <see cref="BlacklistScope.Everywhere"/>: the target or a required dependency is blacklisted.</exception>
    public LoadPlan PlanLoad(string nameOrAlias, IEnumerable<ModuleParameter>? userParameters = null)
    {
        var resolution = _resolver.ResolveOrThrow(nameOrAlias);
        var user = ModuleParameters.Format(userParameters) is { } typed ? ByteText.FromText(typed) : null; // byte strings, as the config's options
        var run = new PlanRun(this);
        foreach (var target in resolution.Modules)
            run.PlanTarget(target, user);
        // kmod plans nothing for a modprobe.d alias whose module is missing (a dry run exits 0; a
        // real load then fails on it). One missing target among several is left out with a
        // warning; when every target is missing there is nothing to load, which is an error.
        if (run.MissingAliasTargets.Count == resolution.Modules.Count && run.MissingAliasTargets.FirstOrDefault() is { } missing)
            throw new ModuleNotFoundException(nameOrAlias, missing.Name, missing.ConfigSource!, Tree.KernelVersion, Tree.Path);
        return new LoadPlan(nameOrAlias, Tree.KernelVersion, resolution, run.Steps, run.Skipped, run.Warnings);
    }

    /// <summary>
    /// Plans <c>insmod PATH [PARAMS]</c>: that file only, with only the caller's parameters (insmod
    /// reads no configuration and loads no dependency).
    /// </summary>
    /// <remarks>
    /// <paramref name="moduleName"/>: The name the module gives itself (.gnu.linkonce.this_module),
    /// which is the name the kernel loads it under: a renamed file keeps its module's name. Null:
    /// the file's name, as kmod's insmod assumes.
    /// </remarks>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public LoadPlan PlanInsert(string path, IEnumerable<ModuleParameter>? userParameters = null, string? moduleName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"Module file {full} does not exist.", full);
        var name = moduleName is { Length: > 0 } ? ModuleName.Normalize(moduleName) : ModuleName.FromPath(full);
        var user = ModuleParameters.Format(userParameters) is { } typed ? ByteText.FromText(typed) : null; // byte strings, as the config's options
        var loaded = !_options.IgnoreLoaded && _kernel.Find(name) is not null;
        var step = new LoadStep(name, full, loaded ? LoadAction.AlreadyLoaded : LoadAction.Insert, user, false, LoadRole.Target,
            null, null, null, null, user, null, false);
        var resolution = new ModuleResolution(path, ModuleSource.Path, [new ResolvedModule(name, null, ModuleSource.Path)]);
        return new LoadPlan(path, Tree.KernelVersion, resolution, [step], [], []);
    }

    /// <summary>One planning call: the visited marks and the simulated kernel are shared by all targets of a name.</summary>
    private sealed class PlanRun(LoadPlanner planner)
    {
        public List<LoadStep> Steps { get; } = [];
        public List<SkippedModule> Skipped { get; } = [];
        public List<string> Warnings { get; } = [];

        /// <summary>Targets a modprobe.d alias names that are neither installed nor built in: left out of the plan.</summary>
        public List<ResolvedModule> MissingAliasTargets { get; } = [];

        /// <summary>Modules this plan loads, so that a later mention is already loaded (kmod gets EEXIST and ignores it).</summary>
        private readonly HashSet<string> _planned = new(StringComparer.Ordinal);

        // Per target (kmod resets these for each probe): kmod keeps one object per name and alias
        // ("name\alias"), so marks are keyed the same way.
        private HashSet<string> _visited = new(StringComparer.Ordinal);
        private HashSet<string> _required = new(StringComparer.Ordinal);
        private HashSet<string> _ignoreCommand = new(StringComparer.Ordinal);
        private List<Entry> _list = [];

        private readonly record struct Entry(ResolvedModule Module, LoadRole Role, string? Of);

        private LoadPlanOptions Options => planner._options;

        public void PlanTarget(ResolvedModule target, string? user)
        {
            var planned = _planned.Contains(target.Name);
            if (!Options.IgnoreLoaded && (InKernel(target) ?? (planned ? LoadAction.AlreadyLoaded : null)) is { } present)
            {
                Steps.Add(Step(new Entry(target, LoadRole.Target, null), present, user, optional: false, repeat: planned));
                return;
            }
            if (Config().BlacklistEntryFor(target.Name) is { } entry)
            {
                if (target.Alias is not null)
                {
                    Skipped.Add(new SkippedModule(target.Name, $"blacklisted ({entry.Source}); modprobe does not load a blacklisted module through an alias"));
                    return;
                }
                if (Options.Blacklist == BlacklistScope.Everywhere) throw new ModuleBlacklistedException(target.Name, entry, null);
            }

            _visited = new(StringComparer.Ordinal);
            _required = new(StringComparer.Ordinal);
            _ignoreCommand = new(StringComparer.Ordinal);
            _list = [];
            ProbeList(target, required: true, LoadRole.Target, null);

            foreach (var item in _list)
            {
                var key = Key(item.Module);
                var optional = !_required.Contains(key);
                var isTarget = key == Key(target); // kmod compares the module object: one per name and alias
                if (Options.Blacklist == BlacklistScope.Everywhere && !isTarget && Config().BlacklistEntryFor(item.Module.Name) is { } bl
                    && (Options.IgnoreLoaded || InKernel(item.Module) is null))
                {
                    if (!optional) throw new ModuleBlacklistedException(item.Module.Name, bl, item.Of ?? target.Name);
                    Warnings.Add($"{item.Module.Name} ({StepReason(item)}) is blacklisted ({bl.Source}) and was left out.");
                    continue;
                }
                var repeat = _planned.Contains(item.Module.Name);
                LoadAction? already = Options.IgnoreLoaded ? null : InKernel(item.Module) ?? (repeat ? LoadAction.AlreadyLoaded : null);
                var step = Step(item, already, isTarget ? user : null, optional, repeat);
                if (step.Action == LoadAction.Unavailable && !optional)
                {
                    if (isTarget && item.Module.Source == ModuleSource.ConfigAlias && item.Module.ConfigSource is { } via)
                    {
                        MissingAliasTargets.Add(item.Module);
                        Skipped.Add(new SkippedModule(item.Module.Name, $"not installed and not built in; named by the alias '{item.Module.Alias}' ({via})"));
                        Warnings.Add($"'{item.Module.Alias}' is an alias for module '{item.Module.Name}' ({via}), but no module '{item.Module.Name}' is installed " +
                            $"for kernel {planner.Tree.KernelVersion} and it is not built in; it was left out.");
                        continue;
                    }
                    throw new ModuleNotFoundException(item.Module.Name, planner.Tree.KernelVersion, planner.Tree.Path);
                }
                if (step.Action == LoadAction.Unavailable)
                    Warnings.Add($"{item.Module.Name} ({StepReason(item)}) is neither installed nor built in; it was left out.");
                if (step.ChangesKernel) _planned.Add(item.Module.Name);
                Steps.Add(step);
            }
        }

        /// <summary>
        /// kmod's __kmod_module_get_probe_list and __kmod_module_fill_softdep (pre-softdeps, the
        /// module, post-softdeps), which call each other recursively. Walked here with a stack of
        /// the work still to do, in the order the recursion would do it, so a softdep chain as deep
        /// as the configuration makes it (100,000 lines) cannot exhaust the thread's stack.
        /// </summary>
        private void ProbeList(ResolvedModule start, bool required, LoadRole role, string? of)
        {
            var work = new Stack<Work>();
            work.Push(new Work(WorkKind.Probe, start, role, of, Required: required));
            while (work.TryPop(out var w))
            {
                switch (w.Kind)
                {
                    case WorkKind.Probe:
                        Probe(w, work);
                        break;
                    case WorkKind.Fill:
                        Fill(w, work);
                        break;
                    default:
                        _list.Add(new Entry(w.Module, w.Role, w.Of));
                        if (w.IgnoreCommand) _ignoreCommand.Add(Key(w.Module));
                        break;
                }
            }
        }

        private enum WorkKind { Probe, Fill, Emit }

        /// <summary>One piece of the walk: probe a module (required or not), fill a module's softdeps around it, or list it (ignoring its install command or not).</summary>
        private readonly record struct Work(WorkKind Kind, ResolvedModule Module, LoadRole Role, string? Of, bool Required = false, bool IgnoreCommand = false);

        /// <summary>Pushes <paramref name="items"/> so that they are popped in the order given.</summary>
        private static void PushInOrder(Stack<Work> work, List<Work> items)
        {
            for (var i = items.Count - 1; i >= 0; i--) work.Push(items[i]);
        }

        private void Probe(Work w, Stack<Work> work)
        {
            var module = w.Module;
            if (!_visited.Add(Key(module))) return;
            var dependencies = Dependencies(module.Name);
            if (w.Required)
            {
                // Marked before soft dependencies are followed, so a module that is both stays required.
                _required.Add(Key(module));
                foreach (var d in dependencies) _required.Add(Key(d));
            }
            var next = new List<Work>(dependencies.Count + 1);
            foreach (var d in dependencies) next.Add(new Work(WorkKind.Fill, d, LoadRole.Dependency, module.Name));
            next.Add(Options.IgnoreCommands
                ? new Work(WorkKind.Emit, module, w.Role, w.Of, IgnoreCommand: true)
                : new Work(WorkKind.Fill, module, w.Role, w.Of));
            PushInOrder(work, next);
        }

        private void Fill(Work w, Stack<Work> work)
        {
            var module = w.Module;
            var (pre, post) = Options.IgnoreCommands ? ([], []) : SoftDependencies(module.Name);
            var next = new List<Work>(pre.Count + post.Count + 1);
            foreach (var p in pre) next.Add(new Work(WorkKind.Probe, p, LoadRole.SoftdepPre, module.Name));
            // kmod 30 ignores the install command of a module that has soft dependencies (issue 446).
            next.Add(new Work(WorkKind.Emit, module, w.Role, w.Of, IgnoreCommand: !Options.InstallCommandsWithSoftdeps && (pre.Count > 0 || post.Count > 0)));
            foreach (var p in post) next.Add(new Work(WorkKind.Probe, p, LoadRole.SoftdepPost, module.Name));
            PushInOrder(work, next);
        }

        private LoadStep Step(Entry item, LoadAction? already, string? user, bool optional, bool repeat)
        {
            var m = item.Module;
            var path = planner.Tree.FindModule(m.Name)?.Path;
            var configParameters = Config().OptionsFor(m.Name, m.Alias);
            var parameters = configParameters is null ? user : user is null ? configParameters : configParameters + " " + user;
            var command = Options.IgnoreCommands || _ignoreCommand.Contains(Key(m)) ? null : (m.Command ?? Config().InstallCommandFor(m.Name))?.Command;
            var builtin = path is null && (m.IsBuiltin || planner.Tree.IsBuiltin(m.Name));
            var action = already ?? (command is not null ? LoadAction.RunInstallCommand
                : path is not null ? LoadAction.Insert
                : builtin ? LoadAction.Builtin
                : LoadAction.Unavailable);
            if (action == LoadAction.AlreadyLoaded && path is null && command is null && builtin) action = LoadAction.Builtin;
            return new LoadStep(m.Name, path, action, parameters, optional, item.Role, item.Of, command,
                command?.Replace("$CMDLINE_OPTS", parameters ?? "", StringComparison.Ordinal),
                configParameters, user, m.Alias, repeat)
            { Needs = [.. Dependencies(m.Name).Select(d => d.Name)] };
        }

        /// <summary>Live (or still initialising) in the kernel, or built in: kmod's module_is_inkernel.</summary>
        private LoadAction? InKernel(ResolvedModule m)
        {
            if (planner.Tree.FindModule(m.Name) is null && (m.IsBuiltin || planner.Tree.IsBuiltin(m.Name))) return LoadAction.Builtin;
            var loaded = planner._kernel.Find(m.Name);
            if (loaded is { IsBuiltin: true }) return LoadAction.Builtin;
            return loaded is { State: Kernel.ModuleState.Live or Kernel.ModuleState.Loading } ? LoadAction.AlreadyLoaded : null;
        }

        /// <summary>The dependency closure in load order (modules.dep's line reversed), as name-only modules.</summary>
        private List<ResolvedModule> Dependencies(string name)
        {
            var line = planner.Tree.Dependencies(name);
            if (line is null) return [];
            var result = new List<ResolvedModule>(line.Count);
            for (var i = line.Count - 1; i >= 0; i--) result.Add(new ResolvedModule(line[i].Name, null, ModuleSource.ModuleName));
            return result;
        }

        private (List<ResolvedModule> Pre, List<ResolvedModule> Post) SoftDependencies(string name)
        {
            var lines = Config().SoftDependenciesFor(name);
            if (!Options.MergeAllSoftdepLines && lines.Count > 1) lines = [lines[0]];
            var pre = new List<ResolvedModule>();
            var post = new List<ResolvedModule>();
            foreach (var line in lines)
            {
                foreach (var n in line.Pre) pre.AddRange(LookupSoftdep(n, name, line));
                foreach (var n in line.Post) post.AddRange(LookupSoftdep(n, name, line));
            }
            return (pre, post);
        }

        private IReadOnlyList<ResolvedModule> LookupSoftdep(string softdep, string of, ConfigSoftDependency line)
        {
            try
            {
                var found = planner._resolver.Resolve(softdep);
                if (!found.Found) Warnings.Add($"Soft dependency '{softdep}' of {of} ({line.Source}) matches no module; it was left out.");
                return found.Modules;
            }
            catch (InvalidModuleNameException e)
            {
                Warnings.Add($"Soft dependency '{softdep}' of {of} ({line.Source}) was left out: {e.Problem}.");
                return [];
            }
        }

        private ModprobeConfig Config() => planner.Config;

        private static string Key(ResolvedModule m) => m.Alias is null ? m.Name : m.Name + "\\" + m.Alias;

        private static string StepReason(Entry e) => e.Role switch
        {
            LoadRole.Target => "target",
            LoadRole.Dependency => $"dependency of {e.Of}",
            LoadRole.SoftdepPre => $"softdep pre of {e.Of}",
            _ => $"softdep post of {e.Of}",
        };
    }
}
