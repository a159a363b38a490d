using System.Management.Automation;
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

    private IKernel? _kernel;
    private ModprobeSession? _session;
    private KernelChangeGate? _gate;

    protected override void BeginProcessing()
    {
        var root = OpenRoot();
        _kernel = ModprobeSessions.OpenKernel(this, root);
        // An image without proc/modules has nothing loaded: every removal would plan nothing, and say only that.
        if (!root.IsHost && !_kernel.SupportsModules)
            WriteWarning($"{root.Resolve(ProcModulesReader.SystemPath)} does not exist, so nothing is loaded under -Root {root} and there is nothing to remove. Put a copy of the system's /proc/modules there to plan against it.");
        // -Root and the privilege are judged when a change is approved (ShouldProcess), so
        // -WhatIf and $WhatIfPreference plan alike, and removing what is absent needs neither.
        _gate = new KernelChangeGate(this, root, Force);
    }

    /// <summary>One engine call for the input's names; then its report as warnings, ErrorRecords and objects.</summary>
    protected override void ProcessRecord()
    {
        RemoteOrigin.NoteNames(this, Name);
        _session ??= ModprobeSessions.Open(this, _kernel!, KernelVersion);
        if (_session is null)
            return;
        var options = (RemoveUnusedDependency ? UnloadOptions.RemoveUnusedDependencies : 0) | (SkipInUseCheck ? UnloadOptions.SkipInUseCheck : 0) | (Persist ? UnloadOptions.Persist : 0);
        var report = _session.Unload(UnloadRequest.ForNames(Name!, options, TimeSpan.FromSeconds(Timeout)), new Decider(this));
        foreach (var item in report.Items)
            if (ModprobeSessions.WriteUnload(this, item, report.Stopped is not null) && PassThru)
                WriteObject(item.Before is not null ? new LoadedKernelModule(item.Before, item.Changed) : LoadedKernelModule.NotLoaded(item.Module, item.Changed));
        ModprobeSessions.ThrowIfStopped(this, report.Stopped, _gate!);
    }

    /// <summary>ShouldProcess for each step; with -SkipInUseCheck, then PowerShell's Force || ShouldContinue for each removal; ShouldProcess naming the files for -Persist.</summary>
    private sealed class Decider(RemoveKernelModuleCommand cmdlet) : IChangeDecider
    {
        private KernelChangeGate Gate => cmdlet._gate!;

        public bool Stopped => Gate.Refusal is not null;

        public ChangeDecision DecideUnload(UnloadStep step, bool forced) => Gate.Decide($"{step.ToModprobeLine()} ({step.Reason})", "Remove-KernelModule",
            forced ? $"-SkipInUseCheck removes {step.Module} even while it is in use (only on kernels built with CONFIG_MODULE_FORCE_UNLOAD); whatever uses it may crash. Go on?" : null,
            "Remove a module in use");

        public ChangeDecision DecideFiles(string module, IReadOnlyList<PersistedFile> changes, bool loadAtBoot) =>
            Gate.Decide(ModprobeSessions.PersistTarget(changes), "Unpersist (stop loading at boot)");

        public ChangeDecision DecideLoad(LoadStep step, LoadStepRisk risk) => ChangeDecision.No; // a removal loads nothing

        public ChangeDecision DecideNothingToLoad(ModuleNotFoundException aliasToNothing) => ChangeDecision.No;
    }
}
