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
public sealed class UpdateModuleDependencyCommand : ModuleTreeCmdlet
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The kernel release whose /lib/modules folder is indexed; the running kernel's by default.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string? KernelVersion { get; set; }

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

    /// <summary>The distinct (root, kernel version) pairs of the input, in order: depmod runs once for each, in EndProcessing.</summary>
    private readonly List<(SystemRoot Root, string Version)> _runs = [];

    protected override void ProcessRecord()
    {
        var root = OpenRoot();
        var version = KernelVersion ?? ModuleTrees.DefaultVersion(root);
        if (ModuleTrees.VersionError(root, version) is { } error)
        {
            ThrowTerminatingError(error);
            return;
        }
        // Many modules of one kernel piped in (Import-Clixml, Get-KernelModule -ListAvailable)
        // name the same tree: index it once, not once per object.
        if (!_runs.Any(r => r.Root.Path == root.Path && r.Version == version))
            _runs.Add((root, version!));
    }

    protected override void EndProcessing()
    {
        foreach (var (root, version) in _runs)
            Run(root, version);
    }

    private void Run(SystemRoot root, string version)
    {
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

        // The plan holds the output folder open (resolved inside the root before reading): closed when done.
        using (plan)
            Publish(plan, version);
    }

    private void Publish(DepmodPlan plan, string version)
    {
        if (plan.Skipped)
        {
            WriteVerbose($"{plan.OutputDirectory}: no module is newer than modules.dep; nothing to do (-Quick).");
            if (PassThru)
                WriteObject(new ModuleDependencyUpdate(version, plan.OutputDirectory, plan.ModuleCount, plan.SymbolCount, plan.AliasCount, [], plan.Warnings, plan.Duration, true, plan.ModulesFromCache, changed: false));
            return;
        }

        // -Verbose says what a user wants to know (a dry run too); the per-step timings are for -Debug.
        WriteVerbose(ModulesRead(plan.ModuleCount, plan.ModulesFromCache, plan.OutputDirectory));
        foreach (var step in plan.Steps)
            WriteDebug(step.ToString());
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
        foreach (var step in result.Steps.Skip(plan.Steps.Count))
            WriteDebug(step.ToString());
        WriteVerbose(result.OutputsUnchanged
            ? $"No index file changed: nothing they are made from changed; their time stamps were renewed ({result.FilesWritten.Count} files)."
            : $"{result.FilesWritten.Count} index files changed: {string.Join(", ", result.FilesWritten.Select(System.IO.Path.GetFileName))}.");
        if (PassThru)
            WriteObject(new ModuleDependencyUpdate(result.KernelVersion, result.OutputDirectory, result.ModuleCount, result.SymbolCount, result.AliasCount,
                result.FilesWritten.ToArray(), result.Warnings, result.Duration, result.Skipped, result.ModulesFromCache,
                changed: !result.Skipped && !result.OutputsUnchanged));
    }

    protected override void StopProcessing() => _cancel.Cancel();

    private static string ModulesRead(int modules, int fromCache, string directory) =>
        $"{directory}: {modules} modules, {modules - fromCache} read from their files, {fromCache} from the cache of their facts.";

    private static ErrorRecord Error(Exception e, string version) => e switch
    {
        DependencyCycleException => ModuleErrors.New(e, "DependencyCycle", ErrorCategory.InvalidData, version, "Depmod.DependencyCycle"),
        KernelNotInstalledException n => ModuleErrors.For(n),
        OperationCanceledException => ModuleErrors.New(new OperationCanceledException("Stopped before anything was written; the old index files are as they were.", e), "Stopped", ErrorCategory.OperationStopped, version, "Depmod.Stopped"),
        UnauthorizedAccessException => ModuleErrors.New(new UnauthorizedAccessException($"Cannot write the index files: {e.Message}", e), "AccessDenied", ErrorCategory.PermissionDenied, version, "Depmod.AccessDenied"),
        TimeoutException => ModuleErrors.New(e, "IndexLocked", ErrorCategory.ResourceBusy, version, "Depmod.IndexLocked"),
        _ => ModuleErrors.New(e, "WriteFailed", ErrorCategory.WriteError, version, "Depmod.WriteFailed"),
    };

    /// <summary>IProgress without a SynchronizationContext: the report runs on the engine's thread, which posts it on.</summary>
    private sealed class Progress(Action<DepmodProgress> report) : IProgress<DepmodProgress>
    {
        public void Report(DepmodProgress value) => report(value);
    }
}
