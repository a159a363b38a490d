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
public sealed class RemoveKernelModuleCommand : PSCmdlet
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

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>How long to wait for a module whose use count is dropping (seconds).</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int Timeout { get; set; }

    [Parameter]
    public SwitchParameter Persist { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private ModprobeSession? _session;
    private bool _forceConfirmed;

    protected override void BeginProcessing()
    {
        var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
        var kernel = RunningKernel.Host;
        if (!kernel.SupportsModules)
            ThrowTerminatingError(ModuleErrors.For(new KernelModulesUnsupportedException(kernel.Release, kernel.ProcModules.Path, kernel.ModulesUnsupportedReason)));
        if (!whatIf && !kernel.CallerMayManageModules)
            ThrowTerminatingError(ModuleErrors.For(new ModulePrivilegeException(), null));
    }

    protected override void ProcessRecord()
    {
        if (Force && !_forceConfirmed)
        {
            var confirmOff = MyInvocation.BoundParameters.TryGetValue("Confirm", out var c) && !((SwitchParameter)c).IsPresent;
            if (!confirmOff && !ShouldContinue("-Force removes a module even while it is in use (only on kernels built with CONFIG_MODULE_FORCE_UNLOAD); whatever uses it may crash. Go on?", "Forced removal"))
                return;
            _forceConfirmed = true;
        }
        _session ??= ModprobeSessions.Open(this, RunningKernel.Host, null);
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
            proposal = session.PlanUnload(name, new UnloadPlanOptions { RemoveUnusedDependencies = RemoveUnusedDependency, AllowInUse = Force });
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
        if (proposal.Plan.IsNoOp)
        {
            WriteVerbose($"{name} is not loaded; nothing to do.");
        }
        else
        {
            var result = session.ExecuteUnload(proposal.Plan, Force, TimeSpan.FromSeconds(Timeout),
                step => ShouldProcess($"{step.ToModprobeLine()} ({step.Reason})", "Remove-KernelModule"));
            if (result.Failure is { } failure)
            {
                WriteError(ModuleErrors.For(failure, failure.Module));
                return;
            }
        }
        if (Persist && ShouldProcess($"boot-time entries of {name}", "Unpersist"))
            ModprobeSessions.WritePersisted(this, session.Unpersist(name));
        if (PassThru && before is not null)
            WriteObject(new LoadedKernelModule(before));
    }
}
