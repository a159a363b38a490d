using System.Management.Automation;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
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

    private IKernel? _kernel;
    private ModprobeSession? _session;
    private KernelChangeGate? _gate;

    protected override void BeginProcessing()
    {
        var root = OpenRoot();
        // A kernel without module support still gets its plan (-WhatIf); the engine refuses the first change approved.
        _kernel = ModprobeSessions.OpenKernel(this, root, refuseUnsupported: false);
        // -Root and the privilege are judged when a change is approved (ShouldProcess), so
        // -WhatIf and $WhatIfPreference plan alike, and an import with nothing to do needs neither.
        _gate = new KernelChangeGate(this, root, Force);
    }

    private LoadOptions Options =>
        (IgnoreDisabled ? LoadOptions.IgnoreDisabled : 0) | (SkipVersionCheck ? LoadOptions.SkipVersionCheck : 0) | (Persist ? LoadOptions.Persist : 0)
        | (BlacklistEverywhere ? LoadOptions.BlacklistEverywhere : 0) | (NoKernelDecompression ? LoadOptions.NoKernelDecompression : 0);

    /// <summary>One engine call for the input (names, or a path); then its report as warnings, ErrorRecords and objects.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == LiteralPathSet && RemoteOrigin.Refusal(LiteralPath, "Import-KernelModule") is { } fromElsewhere)
        {
            WriteError(fromElsewhere);
            return;
        }
        RemoteOrigin.NoteNames(this, Name);
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
        var request = ParameterSetName == NameSet
            ? LoadRequest.ForNames(Name!, parameters, Options)
            : LoadRequest.ForPath(SessionState.Path.GetUnresolvedProviderPathFromPSPath(ParameterSetName == PathSet ? Path : LiteralPath), parameters, Options);
        var report = _session.Load(request, new Decider(this));
        foreach (var item in report.Items)
            Write(item, request.Path is not null, report.Stopped is not null);
        ModprobeSessions.ThrowIfStopped(this, report.Stopped, _gate!);
    }

    private void Write(LoadOutcome item, bool byPath, bool stopped)
    {
        if (item.NotReached)
            return;
        foreach (var w in item.Warnings)
            WriteWarning(ModprobeSessions.WarningText(w));
        if (item.NothingToLoad is { } nothing)
        {
            // modprobe --show-depends plans nothing for an alias to a missing module and succeeds: a dry run warns, naming the line.
            WriteWarning($"{nothing.Message} Nothing was planned for it. {ModuleErrors.For(nothing, item.Query).ErrorDetails?.RecommendedAction}".TrimEnd());
            return;
        }
        if (item.Refusal is { } refusal)
        {
            WriteError(refusal switch
            {
                // A misspelt name (msdso): the nearest installed modules, computed only now.
                ModuleNotFoundException { AliasTarget: null } e => Suggestions.Add(ModuleErrors.For(e, item.Query), e.Module, _session!.Tree.Modules().Select(m => m.Name), moduleNames: true),
                ModuleWouldBeRefusedException e => ModuleErrors.For(e, e.Path),
                _ when byPath && refusal is not ModulePlanException => ModuleErrors.ForModuleFile(refusal, item.Query),
                _ => ModprobeSessions.PlanRefusal(refusal, item.Query),
            });
            return;
        }
        var targets = item.Plan!.Steps.Where(s => s.Role == LoadRole.Target).Select(s => s.Module).ToList();
        if (item.Plan.IsNoOp)
            WriteVerbose($"{(byPath ? string.Join(", ", targets) : item.Query)}: already loaded or built in; nothing to do.");
        if (item.Execution is { } execution)
        {
            if (stopped)
                return;
            foreach (var optional in execution.Steps.Where(s => s.Status == StepStatus.Failed && s.Step.Optional))
                WriteWarning($"{optional.Error!.Message} It was optional ({optional.Step.Reason}), so loading goes on.");
            if (execution.Failure is { } failure)
            {
                WriteError(ModuleErrors.For(failure, failure.Module));
                return;
            }
        }
        if (item.Persisted is { } persisted)
            ModprobeSessions.WritePersisted(this, persisted, targets.LastOrDefault() ?? item.Query, "the boot-time files already say so; nothing written.");
        if (PassThru)
            foreach (var m in item.Final)
                WriteObject(new LoadedKernelModule(m, item.Changed));
    }

    /// <summary>
    /// The engine's questions in this cmdlet's words: ShouldProcess for each step that changes the
    /// kernel; then, for a step that skips a safety (-SkipVersionCheck, -IgnoreDisabled),
    /// PowerShell's Force || ShouldContinue; ShouldProcess naming the exact files for -Persist.
    /// </summary>
    private sealed class Decider(ImportKernelModuleCommand cmdlet) : IChangeDecider
    {
        private KernelChangeGate Gate => cmdlet._gate!;

        public bool Stopped => Gate.Refusal is not null;

        public ChangeDecision DecideLoad(LoadStep step, LoadStepRisk risk)
        {
            var risks = new List<string>();
            if (risk.IgnoresDisabled)
                risks.Add($"{step.Module} is disabled on purpose ({ModuleDisabledException.Describe(risk.Disabled)}); -IgnoreDisabled loads it anyway, ignoring install commands.");
            if (risk.SkipsVersionCheck)
                risks.Add($"-SkipVersionCheck loads {step.Module} even if it was built for another kernel or with other symbol versions; a mismatch can crash the kernel.");
            return Gate.Decide(StepText(step), "Import-KernelModule",
                risks.Count == 0 ? null : string.Join(" ", risks) + " Go on?",
                cmdlet.SkipVersionCheck ? "Load without the version check" : "Load a disabled module");
        }

        public ChangeDecision DecideFiles(string module, IReadOnlyList<PersistedFile> changes, bool loadAtBoot) =>
            Gate.Decide(ModprobeSessions.PersistTarget(changes), "Persist (load at boot)");

        /// <summary>A modprobe.d alias to a module that is not installed: a dry run warns; a real import fails.</summary>
        public ChangeDecision DecideNothingToLoad(ModuleNotFoundException e) =>
            Gate.Ask($"{e.AliasTarget} (alias '{e.Module}' in {e.AliasSource}): not installed, nothing to load", "Import-KernelModule");

        public ChangeDecision DecideUnload(UnloadStep step, bool forced) => ChangeDecision.No; // an import removes nothing

        /// <summary>A built-in module of the plan, shown as modprobe --show-depends shows it ("builtin ipv6"); nothing is loaded for it, whatever the answer.</summary>
        public void ShowBuiltin(LoadStep step) =>
            Gate.Ask($"builtin {step.Module} ({step.Reason}): built into the kernel, nothing to load", "Import-KernelModule");

        private static string StepText(LoadStep step) => step.Action == LoadAction.RunInstallCommand
            ? $"install {step.CommandLine ?? step.InstallCommand} ({step.Reason})"
            : $"insmod {step.Path} {step.Parameters?.Trim()}".TrimEnd() + $" ({step.Reason})";
    }
}
