using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Commands;

/// <summary>
/// rmmod and modprobe -r: removes a loaded module, refusing one in use and naming its holders;
/// with -RemoveUnusedDependency also the dependencies nothing else uses, and softdeps in reverse.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "KernelModule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(LoadedKernelModule))]
public sealed class RemoveKernelModuleCommand : ModuleTreeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SymbolToModuleName]
    [ValidateNotAFile("Remove-KernelModule")]
    [Alias("ModuleName", "Module")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.LoadedModuleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter]
    public SwitchParameter RemoveUnusedDependency { get; set; }

    /// <summary>
    /// rmmod --force: remove a module even while it is in use (delete_module with O_TRUNC, kernels
    /// built with CONFIG_MODULE_FORCE_UNLOAD). Named as PowerShell names a skipped safety check;
    /// asks first (ShouldContinue) unless -Force.
    /// </summary>
    [Parameter]
    public SwitchParameter SkipInUseCheck { get; set; }

    /// <summary>Skips the question -SkipInUseCheck asks; does nothing risky by itself.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>How long to wait for a module whose use count is dropping (seconds): a module in use only by processes is then tried and retried, as modprobe -r --wait does.</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int Timeout { get; set; }

    [Parameter]
    public SwitchParameter Persist { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

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
        _kernel = _root.IsHost && !_root.ModuleDirectoryGiven ? RunningKernel.Host : new RunningKernel(_root);
        if (_root.IsHost && !_kernel.SupportsModules)
            ThrowTerminatingError(ModuleErrors.For(new KernelModulesUnsupportedException(_kernel.Release, _kernel.ProcModules.Path, _kernel.ModulesUnsupportedReason)));
        // An image without proc/modules has nothing loaded: every removal would plan nothing, and say only that.
        if (!_root.IsHost && !_kernel.SupportsModules)
            WriteWarning($"{_kernel.ProcModules.Path} does not exist, so nothing is loaded under -Root {_root} and there is nothing to remove. Put a copy of the system's /proc/modules there to plan against it.");
        // -Root and the privilege are judged when a change is approved (ShouldProcess), so
        // -WhatIf and $WhatIfPreference plan alike, and removing what is absent needs neither.
        _gate = new KernelChangeGate(this, _root, _kernel, Force);
    }

    protected override void ProcessRecord()
    {
        _session ??= ModprobeSessions.Open(this, _kernel!, KernelVersion);
        if (_session is null)
            return;
        foreach (var name in Name!)
            RemoveOne(_session, name);
    }

    /// <summary>Plan, confirm each step, execute, report: the engine's session does the work.</summary>
    private void RemoveOne(ModprobeSession session, string name)
    {
        var before = session.Loaded(name);
        UnloadProposal proposal;
        try
        {
            proposal = session.PlanUnload(name, new UnloadPlanOptions { RemoveUnusedDependencies = RemoveUnusedDependency, AllowInUse = SkipInUseCheck, WaitForUseCount = Timeout > 0 });
        }
        catch (ModulePlanException e)
        {
            WriteError(ModuleErrors.For(e, name));
            return;
        }
        catch (Exception e) when (ErrorRecords.ForReadFailure(e, name, "InvalidModuleIndex") is { } record)
        {
            WriteError(record);
            return;
        }
        foreach (var w in proposal.Warnings)
            WriteWarning(ModprobeSessions.WarningText(w));
        var changed = false;
        if (proposal.Plan.IsNoOp)
        {
            WriteVerbose($"{name} is not loaded; nothing to do.");
        }
        else
        {
            var result = session.ExecuteUnload(proposal.Plan, SkipInUseCheck, TimeSpan.FromSeconds(Timeout), Approve);
            _gate!.ThrowIfRefused();
            if (result.Failure is { } failure)
            {
                WriteError(ModuleErrors.For(failure, failure.Module));
                return;
            }
            changed = result.ChangedKernel;
        }
        changed |= UnpersistIfAsked(session, name);
        if (PassThru)
            WriteObject(before is not null ? new LoadedKernelModule(before, changed) : LoadedKernelModule.NotLoaded(ModuleName.Normalize(name), changed));
    }

    /// <summary>ShouldProcess for each step; with -SkipInUseCheck, then PowerShell's Force || ShouldContinue for each removal.</summary>
    private bool Approve(UnloadStep step) => _gate!.Approve($"{step.ToModprobeLine()} ({step.Reason})", "Remove-KernelModule",
        SkipInUseCheck && step.Action == UnloadAction.Remove
            ? $"-SkipInUseCheck removes {step.Module} even while it is in use (only on kernels built with CONFIG_MODULE_FORCE_UNLOAD); whatever uses it may crash. Go on?"
            : null,
        "Remove a module in use");

    /// <summary>-Persist: asks naming the exact files to delete (none when there are none of ours); true when a file was deleted.</summary>
    private bool UnpersistIfAsked(ModprobeSession session, string name)
    {
        if (!Persist)
            return false;
        try
        {
            var changes = session.PreviewUnpersist(name).Where(f => f.Changed).ToList();
            if (changes.Count == 0)
            {
                WriteVerbose($"{name}: no boot-time file of ours to delete.");
                return false;
            }
            if (!_gate!.Approve(ModprobeSessions.PersistTarget(changes), "Unpersist (stop loading at boot)", changesKernel: false))
            {
                _gate.ThrowIfRefused();
                return false;
            }
            var done = session.Unpersist(name);
            ModprobeSessions.WritePersisted(this, done);
            return done.Any(f => f.Changed);
        }
        catch (ModulePlanException e)
        {
            WriteError(ModuleErrors.For(e, name));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(ModprobeSessions.PersistFailed(e, name));
        }
        return false;
    }
}
