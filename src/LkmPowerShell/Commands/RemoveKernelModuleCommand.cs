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

    private ModulePlanning? _planning;
    private bool _forceConfirmed;

    protected override void BeginProcessing()
    {
        var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
        var kernel = RunningKernel.Host;
        if (!kernel.SupportsModules)
            ThrowTerminatingError(new ErrorRecord(new KernelModulesUnsupportedException(kernel.Release, kernel.ProcModules.Path, kernel.ModulesUnsupportedReason),
                "KernelModulesUnsupported", ErrorCategory.NotImplemented, kernel.Release));
        if (!whatIf && !Privileges.CanManageModules())
            ThrowTerminatingError(new ErrorRecord(new UnauthorizedAccessException(Privileges.Explanation), "NoPrivilege", ErrorCategory.PermissionDenied, null));
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
        _planning ??= ModulePlanning.Open(this, SystemRoot.Host, null);
        if (_planning is null)
            return;
        foreach (var name in Name!)
            RemoveOne(name);
    }

    private void RemoveOne(string name)
    {
        var kernel = _planning!.Kernel;
        var before = kernel.GetLoadedModule(name);
        UnloadPlan plan;
        try
        {
            plan = new UnloadPlanner(_planning.Resolver, KernelSnapshot.Read(kernel),
                new UnloadPlanOptions { RemoveUnusedDependencies = RemoveUnusedDependency, AllowInUse = Force }).PlanUnload(name);
        }
        catch (ModulePlanException e)
        {
            WriteError(ModulePlanning.PlanError(e, name));
            return;
        }
        catch (Exception e) when (ErrorRecords.ForReadFailure(e, name, "InvalidModuleIndex") is { } record)
        {
            WriteError(record);
            return;
        }
        foreach (var w in plan.Warnings)
            WriteWarning(w);
        if (plan.IsNoOp)
        {
            WriteVerbose($"{name} is not loaded; nothing to do.");
        }
        else
        {
            var outcomes = new UnloadExecutor(new ModuleLoader(SystemRoot.Host), kernel, WriteVerbose)
                .Execute(plan, Force, TimeSpan.FromSeconds(Timeout), step => ShouldProcess($"{step.ToModprobeLine()} ({step.Reason})", "Remove-KernelModule"));
            foreach (var o in outcomes)
            {
                if (o.Succeeded)
                    WriteVerbose(o.Message);
                else if (o.Step.Optional)
                    WriteVerbose($"{o.Message} (optional: {o.Step.Reason})");
                else
                    WriteError(new ErrorRecord(new InvalidOperationException(o.Message), "ModuleRemoveFailed", ErrorCategory.InvalidOperation, o.Step.Module));
            }
            if (outcomes.Any(o => !o.Succeeded && !o.Step.Optional))
                return;
        }
        if (Persist && ShouldProcess($"boot-time entries of {name}", "Unpersist"))
            foreach (var f in new ModulePersistence(SystemRoot.Host).Unpersist(ModuleName.Normalize(name)))
                WriteVerbose($"{f.Path}: {f.Change}{(f.Reason is null ? "" : " (" + f.Reason + ")")}");
        if (PassThru && before is not null)
            WriteObject(new LoadedKernelModule(before));
    }
}
