using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Commands;

/// <summary>
/// depmod: writes modules.dep and the other index files of a kernel's module tree, byte for byte
/// as kmod 30's depmod does, each file replaced atomically.
/// </summary>
[Cmdlet(VerbsData.Update, "ModuleDependency", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ModuleDependencyUpdate))]
public sealed class UpdateModuleDependencyCommand : PSCmdlet
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The kernel release whose /lib/modules folder is indexed; the running kernel's by default.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string? KernelVersion { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Root { get; set; } = "/";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutputPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SystemMap { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SymVers { get; set; }

    [Parameter]
    public SwitchParameter Quick { get; set; }

    [Parameter]
    public IndexLayout IndexLayout { get; set; } = IndexLayout.PostOrder;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var root = new SystemRoot(SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root));
        var version = KernelVersion ?? ModuleTrees.DefaultVersion(root);
        var problem = ModuleDirectory.KernelVersionProblem(version);
        if (version is null || problem is not null)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(version is null
                    ? $"Which kernel? The running kernel's release cannot be read under {root}; give -KernelVersion."
                    : $"'{version}' is not a kernel version: {problem}."),
                "InvalidKernelVersion", ErrorCategory.InvalidArgument, version));
            return;
        }

        var work = new EngineWork();
        var progress = new ProgressRecord(2, "Update-ModuleDependency", $"Indexing the modules of {version}");
        var options = new DepmodOptions
        {
            Root = root,
            KernelVersion = version,
            OutputRoot = OutputPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutputPath),
            SystemMapPath = SystemMap is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SystemMap),
            SymVersPath = SymVers is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SymVers),
            Layout = IndexLayout,
            Quick = Quick,
            Progress = new Progress(p => work.Post(() =>
            {
                progress.StatusDescription = p.Stage.ToString();
                progress.PercentComplete = p.Total > 0 ? Math.Min(100, p.Completed * 100 / p.Total) : -1;
                WriteProgress(progress);
            })),
            Warning = w => work.Post(() => WriteWarning(w.Message)),
        };

        DepmodPlan plan;
        try
        {
            plan = work.Run(() => DepmodRunner.Compute(options, _cancel.Token));
        }
        catch (Exception e) when (e is DependencyCycleException or KernelNotInstalledException or OperationCanceledException or IOException or UnauthorizedAccessException)
        {
            WriteError(Error(e, version));
            return;
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }

        if (plan.Skipped)
        {
            WriteVerbose($"{plan.OutputDirectory}: no module is newer than modules.dep; nothing to do (-Quick).");
            if (PassThru)
                WriteObject(new ModuleDependencyUpdate(version, plan.OutputDirectory, plan.ModuleCount, plan.SymbolCount, plan.AliasCount, [], plan.Warnings, plan.Duration, true, plan.ModulesFromCache));
            return;
        }

        var names = string.Join(", ", plan.Files.Select(f => f.Name));
        if (!ShouldProcess($"{plan.OutputDirectory}: {names}", $"Write {plan.Files.Count} index files for {plan.ModuleCount} modules"))
            return;
        DepmodResult result;
        try
        {
            result = DepmodRunner.Publish(plan, _cancel.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            WriteError(Error(e, version));
            return;
        }
        foreach (var file in result.FilesWritten)
            WriteVerbose(result.OutputsUnchanged ? $"{file}: already holds this content (nothing it is made from changed); time stamp renewed" : $"wrote {file}");
        if (PassThru)
            WriteObject(new ModuleDependencyUpdate(result.KernelVersion, result.OutputDirectory, result.ModuleCount, result.SymbolCount, result.AliasCount,
                result.FilesWritten.ToArray(), result.Warnings, result.Duration, result.Skipped, result.ModulesFromCache));
    }

    protected override void StopProcessing() => _cancel.Cancel();

    private static ErrorRecord Error(Exception e, string version) => e switch
    {
        DependencyCycleException => new ErrorRecord(e, "DependencyCycle", ErrorCategory.InvalidData, version),
        KernelNotInstalledException => new ErrorRecord(e, "KernelNotInstalled", ErrorCategory.ObjectNotFound, version),
        OperationCanceledException => new ErrorRecord(new OperationCanceledException("Stopped before anything was written; the old index files are as they were.", e), "Stopped", ErrorCategory.OperationStopped, version),
        UnauthorizedAccessException => new ErrorRecord(new UnauthorizedAccessException($"Cannot write the index files: {e.Message} Run as root, or use -OutputPath.", e), "AccessDenied", ErrorCategory.PermissionDenied, version),
        TimeoutException => new ErrorRecord(e, "IndexLocked", ErrorCategory.ResourceBusy, version),
        _ => new ErrorRecord(e, "WriteFailed", ErrorCategory.WriteError, version),
    };

    /// <summary>IProgress without a SynchronizationContext: the report runs on the engine's thread, which posts it on.</summary>
    private sealed class Progress(Action<DepmodProgress> report) : IProgress<DepmodProgress>
    {
        public void Report(DepmodProgress value) => report(value);
    }
}
