using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Audit;

namespace LkmPowerShell.Commands;

/// <summary>
/// The security audit of the loaded modules (MITRE ATT&amp;CK T1547.006): signatures, taint,
/// origin, and cross-views that find a module hiding from lsmod. "Test" is PowerShell's verb for
/// verifying the state or consistency of a resource (Test-Path, Test-ModuleManifest,
/// Test-FileCatalog): this cmdlet changes nothing and reports whether the loaded modules are what
/// they claim to be.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "KernelModule", DefaultParameterSetName = FindingSet)]
[OutputType(typeof(AuditFinding), ParameterSetName = [FindingSet])]
[OutputType(typeof(AuditReport), ParameterSetName = [SummarySet])]
[OutputType(typeof(bool), ParameterSetName = [QuietSet])]
public sealed class TestKernelModuleCommand : ModuleTreeCmdlet
{
    private const string FindingSet = "Finding";
    private const string SummarySet = "Summary";
    private const string QuietSet = "Quiet";
    private readonly List<string> _names = [];

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SymbolToModuleName]
    [ValidateNotAFile("Test-KernelModule")]
    [Alias("ModuleName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.LoadedModuleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = FindingSet)]
    public AuditSeverity MinimumSeverity { get; set; } = AuditSeverity.Informational;

    [Parameter(ParameterSetName = SummarySet, Mandatory = true)]
    public SwitchParameter Summary { get; set; }

    [Parameter(ParameterSetName = QuietSet, Mandatory = true)]
    public SwitchParameter Quiet { get; set; }

    /// <summary>
    /// Audits what is installed instead of what is loaded: every module file of every installed
    /// kernel (or -KernelVersion) verified against its kernel image's certificates, and each
    /// kernel's initramfs.
    /// </summary>
    [Parameter]
    public SwitchParameter Installed { get; set; }

    /// <summary>With -Installed: the kernels to audit (default: every kernel installed under -Root).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string[]? KernelVersion { get; set; }

    /// <summary>Also verifies the installed file behind each loaded module (a hash per module).</summary>
    [Parameter]
    public SwitchParameter CheckSignature { get; set; }

    /// <summary>Certificate files (PEM or DER) trusted besides the kernel image's: a MOK, a vendor or DKMS key.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Certificate { get; set; }

    protected override void ProcessRecord()
    {
        // The audit reads every view once, so names from the pipeline are gathered and audited together.
        if (Name is not null) _names.AddRange(Name);
    }

    protected override void EndProcessing()
    {
        var root = OpenRoot();
        var names = ModuleNamePatterns.Validate(this, _names.Count > 0 ? [.. _names] : null);
        if (names is { Length: 0 })
            return; // every name was an invalid pattern, each reported
        var patterns = new ModuleNamePatterns(names);
        AuditReport report;
        try
        {
            var certificates = Installed || CheckSignature || Certificate is not null ? new ModuleSignatures(this, root, Certificate).Given : null;
            if (KernelVersion is not null && !Installed)
                WriteWarning("-KernelVersion applies to -Installed only: the loaded modules are those of the running kernel.");
            if (Installed)
            {
                WriteVerbose($"Auditing the installed modules and initramfs of {(KernelVersion is null ? "every installed kernel" : string.Join(", ", KernelVersion))} under {root}.");
                report = ModuleAudit.RunInstalled(root, KernelVersion, certificates, patterns.IsEmpty ? null : patterns.Match, Math.Max(2, Environment.ProcessorCount));
            }
            else
            {
                WriteVerbose($"Auditing the loaded modules under {root}.");
                // The audit reads every module's file (signatures): its progress is shown as it goes,
                // played back on the pipeline thread, where WriteProgress must be called.
                // (A new record each time: the progress stream keeps the records written, not copies.)
                const int progressId = 3;
                var work = new EngineWork();
                try
                {
                    report = work.Run(() => ModuleAudit.Run(root, patterns.IsEmpty ? null : patterns.Match, certificates, p => work.Post(() =>
                        WriteProgress(new ProgressRecord(progressId, "Test-KernelModule", p.Current is null ? p.Stage : $"{p.Stage}: {p.Current}")
                        {
                            PercentComplete = p.Total > 0 ? Math.Min(100, p.Completed * 100 / p.Total) : -1,
                        }))));
                }
                finally
                {
                    WriteProgress(new ProgressRecord(progressId, "Test-KernelModule", "Audited the loaded modules") { RecordType = ProgressRecordType.Completed });
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModuleFormatException)
        {
            var said = $"The audit could not read the kernel's views under {root}: {e.Message}";
            ThrowTerminatingError(ModuleErrors.New(e is UnauthorizedAccessException ? new UnauthorizedAccessException(said, e) : new IOException(said, e),
                "AuditReadFailed", e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.ReadError, root.Path, "Audit.ReadFailed"));
            return;
        }

        switch (ParameterSetName)
        {
            case SummarySet:
                WriteObject(report);
                break;
            case QuietSet:
                WriteObject(report.IsClean);
                break;
            default:
                foreach (var finding in report.Findings)
                    if (finding.Severity >= MinimumSeverity)
                        WriteObject(finding);
                break;
        }

        foreach (var name in patterns.UnmatchedLiterals())
            WriteError(Installed ? ModuleErrors.New(new ItemNotFoundException(
                    $"No installed module is named '{name}' in the kernels audited. Get-KernelModule -ListAvailable lists what is installed."),
                "ModuleNotInstalled", ErrorCategory.ObjectNotFound, name) : ModuleErrors.New(new ItemNotFoundException(
                    $"No loaded module is named '{name}': neither /proc/modules, /sys/module nor the kernel log knows it. Get-KernelModule lists what is loaded."),
                "ModuleNotLoaded", ErrorCategory.ObjectNotFound, name));
    }
}
