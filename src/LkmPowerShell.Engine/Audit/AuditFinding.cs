namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// One result of the audit, as data: what was checked, about what, how bad, the evidence (each
/// line names the file or view it comes from), the ATT&amp;CK techniques where one applies, and
/// what to do about it.
/// </summary>
/// <param name="Severity">How much it matters.</param>
/// <param name="Check">Which check produced it.</param>
/// <param name="Subject">The module's name, or "kernel" for kernel-wide findings.</param>
/// <param name="Message">One sentence: what was found.</param>
/// <param name="Evidence">What was read, one line each ("/sys/module/x/taint: OE").</param>
/// <param name="Techniques">MITRE ATT&amp;CK technique ids ("T1547.006"); empty when none applies.</param>
/// <param name="Remedy">What to do; null when nothing needs doing.</param>
public sealed record AuditFinding(
    AuditSeverity Severity,
    AuditCheck Check,
    string Subject,
    string Message,
    string[] Evidence,
    string[] Techniques,
    string? Remedy)
{
    /// <summary>The subject of kernel-wide findings.</summary>
    public const string KernelSubject = "kernel";

    public override string ToString() => $"{Severity} {Check} {Subject}: {Message}";
}
