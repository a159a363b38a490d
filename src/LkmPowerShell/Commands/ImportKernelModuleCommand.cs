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
public sealed class ImportKernelModuleCommand : PSCmdlet
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

    /// <summary>Load a module that modprobe.d disables (install NAME /bin/false) anyway, ignoring install commands; asks first unless -Force.</summary>
    [Parameter]
    public SwitchParameter IgnoreDisabled { get; set; }

    /// <summary>Only with -WhatIf: plan against another tree (offline image).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Root { get; set; } = "/";

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string? KernelVersion { get; set; }

    private SystemRoot? _root;
    private RunningKernel? _kernel;
    private ModprobeSession? _session;
    private bool _forceConfirmed;

    protected override void BeginProcessing()
    {
        _root = new SystemRoot(SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root));
        var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
        if (!_root.IsHost && !whatIf)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-Root {_root} only plans (use it with -WhatIf): modules can only be loaded into the running kernel."),
                "RootNeedsWhatIf", ErrorCategory.InvalidArgument, _root.Path));
        _kernel = new RunningKernel(_root);
        if (!whatIf && !_kernel.CallerMayManageModules)
            ThrowTerminatingError(ModuleErrors.For(new ModulePrivilegeException(), null));
        if (_root.IsHost && !_kernel.SupportsModules)
            ThrowTerminatingError(ModuleErrors.For(new KernelModulesUnsupportedException(_kernel.Release, _kernel.ProcModules.Path, _kernel.ModulesUnsupportedReason)));
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
            ThrowTerminatingError(new ErrorRecord(e, "InvalidParameters", ErrorCategory.InvalidArgument, Parameters));
            return;
        }
        if (Force && !_forceConfirmed)
        {
            var confirmOff = MyInvocation.BoundParameters.TryGetValue("Confirm", out var c) && !((SwitchParameter)c).IsPresent;
            if (!confirmOff && !ShouldContinue("-Force loads modules built for another kernel or with other symbol versions; a mismatch can crash the kernel. Go on?", "Force loading"))
                return;
            _forceConfirmed = true;
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
        if (disabled.Count > 0)
        {
            var which = string.Join("; ", disabled.Select(b => $"{b.Module} by {b.DisabledBy}"));
            if (!IgnoreDisabled)
            {
                WriteError(new ErrorRecord(new InvalidOperationException(
                    $"{target} is disabled in modprobe.d ({which}): its install command loads nothing, so modprobe would only run it and fail. Enable-KernelModule removes what Disable-KernelModule wrote; -IgnoreDisabled loads it anyway."),
                    "ModuleDisabled", ErrorCategory.PermissionDenied, target)
                {
                    ErrorDetails = new ErrorDetails($"{target} is disabled in modprobe.d: {which}.")
                    {
                        RecommendedAction = "Enable-KernelModule NAME (or remove the install line from the file named), or Import-KernelModule NAME -IgnoreDisabled to load it once anyway.",
                    },
                });
                return;
            }
            var noPrompt = Force || (MyInvocation.BoundParameters.TryGetValue("Confirm", out var confirm) && !((SwitchParameter)confirm).IsPresent);
            if (!noPrompt && !ShouldContinue($"{target} is disabled on purpose ({which}). Load it anyway, ignoring install commands?", "Load a disabled module"))
                return;
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

        if (loadPlan.IsNoOp)
        {
            WriteVerbose($"{target}: already loaded or built in; nothing to do.");
            PersistIfAsked(loadPlan, parameters);
            WriteLoaded(loadPlan);
            return;
        }
        if (file is not null && _root!.IsHost && session.Preflight(file, Force) is { } refusal)
        {
            WriteError(ModuleErrors.For(refusal, file.Path));
            return;
        }
        if (!_root!.IsHost)
        {
            // Planning against another tree (-Root with -WhatIf): show the steps, run none.
            foreach (var step in loadPlan.Steps.Where(s => s.ChangesKernel))
                ShouldProcess(StepText(step), "Import-KernelModule");
            return;
        }

        var insert = new InsertOptions { IgnoreVermagic = Force, IgnoreModversions = Force, AllowKernelDecompression = !NoKernelDecompression };
        var result = session.ExecuteLoad(loadPlan, insert, step => ShouldProcess(StepText(step), "Import-KernelModule"));
        foreach (var optional in result.Steps.Where(s => s.Status == StepStatus.Failed && s.Step.Optional))
            WriteWarning($"{optional.Error!.Message} It was optional ({optional.Step.Reason}), so loading goes on.");
        if (result.Failure is { } failure)
        {
            WriteError(ModuleErrors.For(failure, failure.Module));
            return;
        }
        PersistIfAsked(loadPlan, parameters);
        WriteLoaded(loadPlan);
    }

    private static string StepText(LoadStep step) => step.Action == LoadAction.RunInstallCommand
        ? $"install {step.CommandLine ?? step.InstallCommand} ({step.Reason})"
        : $"insmod {step.Path} {step.Parameters?.Trim()}".TrimEnd() + $" ({step.Reason})";

    private void PersistIfAsked(LoadPlan plan, IReadOnlyList<ModuleParameter> parameters)
    {
        if (!Persist || plan.Steps.LastOrDefault(s => s.Role == LoadRole.Target) is not { } target)
            return;
        if (!ShouldProcess($"/etc/modules-load.d/{target.Module}.conf", "Persist (load at boot)"))
            return;
        try
        {
            ModprobeSessions.WritePersisted(this, _session!.Persist(target.Module, parameters));
        }
        catch (ModulePlanException e)
        {
            WriteError(ModuleErrors.For(e, target.Module));
        }
    }

    private void WriteLoaded(LoadPlan plan)
    {
        if (!PassThru)
            return;
        foreach (var step in plan.Steps.Where(s => s.Role == LoadRole.Target))
            if (_session!.Loaded(step.Module) is { } m)
                WriteObject(new LoadedKernelModule(m));
    }
}
