using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Commands;

/// <summary>
/// modprobe and insmod: loads a module by name with its dependencies and softdeps in kmod's order,
/// or one file by path; already loaded is success; a failed chain is rolled back.
/// </summary>
[Cmdlet(VerbsData.Import, "KernelModule", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(LoadedKernelModule))]
public sealed class ImportKernelModuleCommand : ModuleTreeCmdlet
{
    private const string NameSet = "Name";
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    /// <summary>
    /// Names, from the command line or the pipeline: strings, objects with a Name (loaded or
    /// installed modules), and symbols from Find-KernelSymbol (their providing module, see
    /// SymbolToModuleNameAttribute).
    /// </summary>
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SymbolToModuleName]
    [ValidateNotAFile("Import-KernelModule", PathParameter = "LiteralPath")]
    [Alias("ModuleName")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.InstalledModuleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = PathSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [FileToLiteralPath]
    [Alias("PSPath", "FullName")]
    [ValidateNotNullOrEmpty]
    public string? LiteralPath { get; set; }

    /// <summary>A hashtable (@{ numdummies = 3 }) or a string ("io=0x300 irq=11").</summary>
    [Parameter]
    [Alias("ArgumentList")]
    public object? Parameters { get; set; }

    /// <summary>
    /// kmod's --force-vermagic and --force-modversion: load a module built for another kernel or
    /// with other symbol versions. Named as PowerShell names a skipped safety check
    /// (Import-Module -SkipEditionCheck, Invoke-WebRequest -SkipCertificateCheck); asks first
    /// (ShouldContinue) unless -Force.
    /// </summary>
    [Parameter]
    public SwitchParameter SkipVersionCheck { get; set; }

    /// <summary>Skips the questions -SkipVersionCheck and -IgnoreDisabled ask; does nothing risky by itself.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter Persist { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    [Parameter]
    public SwitchParameter NoKernelDecompression { get; set; }

    [Parameter]
    public SwitchParameter BlacklistEverywhere { get; set; }

    /// <summary>Load a module that modprobe.d disables (install NAME /bin/false) anyway, ignoring install commands; asks first (ShouldContinue) unless -Force.</summary>
    [Parameter]
    public SwitchParameter IgnoreDisabled { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string? KernelVersion { get; set; }

    private SystemRoot? _root;
    private RunningKernel? _kernel;
    private ModprobeSession? _session;
    private KernelChangeGate? _gate;

    protected override void BeginProcessing()
    {
        _root = OpenRoot();
        _kernel = new RunningKernel(_root);
        if (_root.IsHost && !_kernel.SupportsModules)
            ThrowTerminatingError(ModuleErrors.For(new KernelModulesUnsupportedException(_kernel.Release, _kernel.ProcModules.Path, _kernel.ModulesUnsupportedReason)));
        // -Root and the privilege are judged when a change is approved (ShouldProcess), so
        // -WhatIf and $WhatIfPreference plan alike, and an import with nothing to do needs neither.
        _gate = new KernelChangeGate(this, _root, _kernel, Force);
    }

    protected override void ProcessRecord()
    {
        IReadOnlyList<ModuleParameter> parameters;
        try
        {
            parameters = ModprobeSessions.ParseParameters(Parameters);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // The engine's parser says FormatException ('a="x': unclosed quote); the call is unusable either way.
            ThrowTerminatingError(ModuleErrors.New(e, "InvalidParameters", ErrorCategory.InvalidArgument, Parameters, "InvalidParameters"));
            return;
        }
        _session ??= ModprobeSessions.Open(this, _kernel!, KernelVersion);
        if (_session is null)
            return;
        var options = LoadPlanOptions.Default with { Blacklist = BlacklistEverywhere ? BlacklistScope.Everywhere : BlacklistScope.AliasesOnly };

        if (ParameterSetName == NameSet)
        {
            foreach (var name in Name!)
                Load(name, s => s.PlanLoad(name, parameters, options), parameters, file: null);
        }
        else
        {
            var path = ParameterSetName == PathSet ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path) : SessionState.Path.GetUnresolvedProviderPathFromPSPath(LiteralPath);
            if (ErrorRecords.TryReadModuleFile(this, path) is not { } file)
                return;
            Load(file.InternalName ?? file.Name, s => s.PlanInsert(path, parameters, options), parameters, file);
        }
    }

    /// <summary>Plan, confirm each step, execute, report: the engine's session does the work.</summary>
    private void Load(string target, Func<ModprobeSession, LoadProposal> plan, IReadOnlyList<ModuleParameter> parameters, ModuleFileInfo? file)
    {
        var session = _session!;
        LoadProposal proposal;
        try
        {
            proposal = plan(session);
        }
        catch (ModuleNotFoundException e) when (e.AliasTarget is null)
        {
            // A misspelt name (msdso): the nearest installed modules, computed only now.
            WriteError(Suggestions.Add(ModuleErrors.For(e, target), e.Module, session.Tree.Modules().Select(m => m.Name), moduleNames: true));
            return;
        }
        catch (ModulePlanException e)
        {
            // A modprobe.d alias to a module that is not installed: modprobe --show-depends plans
            // nothing and succeeds, so a dry run warns, naming the line; a real import fails.
            if (e is ModuleNotFoundException { AliasTarget: { } missing, AliasSource: { } via }
                && !ShouldProcess($"{missing} (alias '{target}' in {via}): not installed, nothing to load", "Import-KernelModule"))
            {
                WriteWarning($"{e.Message} Nothing was planned for it. {ModuleErrors.For(e, target).ErrorDetails?.RecommendedAction}".TrimEnd());
                return;
            }
            WriteError(ModuleErrors.For(e, target));
            return;
        }
        catch (Exception e) when (ErrorRecords.ForReadFailure(e, target, "InvalidModuleIndex") is { } record)
        {
            // A corrupt index or a refused file: the same id as every other cmdlet gives.
            WriteError(record);
            return;
        }
        foreach (var w in proposal.Warnings)
            WriteWarning(ModprobeSessions.WarningText(w));
        var loadPlan = proposal.Plan;

        // A module disabled the CIS way would only run /bin/false: say so, naming the file and line.
        var disabled = session.DisabledModules(loadPlan);
        var which = string.Join("; ", disabled.Select(b => $"{b.Module} by {b.DisabledBy}"));
        if (disabled.Count > 0)
        {
            if (!IgnoreDisabled)
            {
                var e = new InvalidOperationException(
                    $"{target} is disabled in modprobe.d ({which}): its install command loads nothing, so modprobe would only run it and fail.");
                var remedy = ModuleErrors.Remedy("ModuleDisabled", target);
                WriteError(new ErrorRecord(e, "ModuleDisabled", ErrorCategory.PermissionDenied, target)
                {
                    ErrorDetails = new ErrorDetails($"{e.Message} {remedy}") { RecommendedAction = remedy },
                });
                return;
            }
            try
            {
                // As modprobe --ignore-install: the same plan without install commands (and softdeps).
                if (ParameterSetName == NameSet)
                    loadPlan = session.PlanLoad(target, parameters, LoadPlanOptions.Default with
                        { IgnoreCommands = true, Blacklist = BlacklistEverywhere ? BlacklistScope.Everywhere : BlacklistScope.AliasesOnly }).Plan;
            }
            catch (ModulePlanException e)
            {
                WriteError(ModuleErrors.For(e, target));
                return;
            }
        }
        var disabledNames = disabled.Select(b => b.Module).ToHashSet(StringComparer.Ordinal);

        if (file is not null && _root!.IsHost && !loadPlan.IsNoOp && session.Preflight(file, SkipVersionCheck) is { } refusal)
        {
            WriteError(ModuleErrors.For(refusal, file.Path));
            return;
        }

        var changed = false;
        if (loadPlan.IsNoOp)
        {
            WriteVerbose($"{target}: already loaded or built in; nothing to do.");
        }
        else
        {
            var insert = new InsertOptions { IgnoreVermagic = SkipVersionCheck, IgnoreModversions = SkipVersionCheck, AllowKernelDecompression = !NoKernelDecompression };
            var result = session.ExecuteLoad(loadPlan, insert, step => Approve(step, disabledNames, which));
            _gate!.ThrowIfRefused();
            foreach (var optional in result.Steps.Where(s => s.Status == StepStatus.Failed && s.Step.Optional))
                WriteWarning($"{optional.Error!.Message} It was optional ({optional.Step.Reason}), so loading goes on.");
            if (result.Failure is { } failure)
            {
                WriteError(ModuleErrors.For(failure, failure.Module));
                return;
            }
            changed = result.ChangedKernel;
        }
        changed |= PersistIfAsked(loadPlan, parameters);
        WriteLoaded(loadPlan, changed);
    }

    /// <summary>
    /// ShouldProcess for each step that changes the kernel; then, for a step that skips a safety
    /// (-SkipVersionCheck, -IgnoreDisabled), PowerShell's Force || ShouldContinue.
    /// </summary>
    private bool Approve(LoadStep step, HashSet<string> disabled, string disabledBy)
    {
        var risks = new List<string>();
        if (disabled.Contains(step.Module))
            risks.Add($"{step.Module} is disabled on purpose ({disabledBy}); -IgnoreDisabled loads it anyway, ignoring install commands.");
        if (SkipVersionCheck && step.Action == LoadAction.Insert)
            risks.Add($"-SkipVersionCheck loads {step.Module} even if it was built for another kernel or with other symbol versions; a mismatch can crash the kernel.");
        return _gate!.Approve(StepText(step), "Import-KernelModule",
            risks.Count == 0 ? null : string.Join(" ", risks) + " Go on?",
            SkipVersionCheck ? "Load without the version check" : "Load a disabled module");
    }

    private static string StepText(LoadStep step) => step.Action == LoadAction.RunInstallCommand
        ? $"install {step.CommandLine ?? step.InstallCommand} ({step.Reason})"
        : $"insmod {step.Path} {step.Parameters?.Trim()}".TrimEnd() + $" ({step.Reason})";

    /// <summary>-Persist: asks naming the exact files to write or delete (none when they already say so); true when a file changed.</summary>
    private bool PersistIfAsked(LoadPlan plan, IReadOnlyList<ModuleParameter> parameters)
    {
        if (!Persist || plan.Steps.LastOrDefault(s => s.Role == LoadRole.Target) is not { } target)
            return false;
        try
        {
            var changes = _session!.PreviewPersist(target.Module, parameters).Where(f => f.Changed).ToList();
            if (changes.Count == 0)
            {
                WriteVerbose($"{target.Module}: the boot-time files already say so; nothing written.");
                return false;
            }
            if (!_gate!.Approve(ModprobeSessions.PersistTarget(changes), "Persist (load at boot)", changesKernel: false))
            {
                _gate.ThrowIfRefused();
                return false;
            }
            var done = _session.Persist(target.Module, parameters);
            ModprobeSessions.WritePersisted(this, done);
            return done.Any(f => f.Changed);
        }
        catch (ModulePlanException e)
        {
            WriteError(ModuleErrors.For(e, target.Module));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(ModprobeSessions.PersistFailed(e, target.Module));
        }
        return false;
    }

    private void WriteLoaded(LoadPlan plan, bool changed)
    {
        if (!PassThru)
            return;
        foreach (var step in plan.Steps.Where(s => s.Role == LoadRole.Target))
            if (_session!.Loaded(step.Module) is { } m)
                WriteObject(new LoadedKernelModule(m, changed));
    }
}
