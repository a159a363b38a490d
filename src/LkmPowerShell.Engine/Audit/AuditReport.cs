namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// The whole audit: every finding, and the figures a test or a dashboard asserts on.
/// </summary>
/// <param name="KernelRelease">The audited kernel's release; null when it cannot be read.</param>
/// <param name="Taint">/proc/sys/kernel/tainted decoded; null when unreadable.</param>
/// <param name="ModulesAudited">The modules the per-module checks looked at, listed and hidden ones.</param>
/// <param name="HiddenModules">Modules found by a cross-view although /proc/modules does not list them.</param>
/// <param name="Findings">Every finding, most severe first, then in the order the checks ran.</param>
public sealed record AuditReport(
    string? KernelRelease,
    KernelTaintSummary? Taint,
    string[] ModulesAudited,
    string[] HiddenModules,
    AuditFinding[] Findings)
{
    /// <summary>The most severe finding's severity; Informational when there is none.</summary>
    public AuditSeverity HighestSeverity =>
        Findings.Length == 0 ? AuditSeverity.Informational : Findings.Max(f => f.Severity);

    /// <summary>No finding above Informational.</summary>
    public bool IsClean => HighestSeverity == AuditSeverity.Informational;

    public override string ToString() =>
        $"{KernelRelease ?? "unknown kernel"}: {Findings.Length} findings, highest {HighestSeverity}, {ModulesAudited.Length} modules audited"
        + (HiddenModules.Length > 0 ? $", hidden: {string.Join(", ", HiddenModules)}" : "");
}

/// <summary>The kernel's taint in plain types: letters ("OE"), the number, and each set flag's meaning.</summary>
public sealed record KernelTaintSummary(string Letters, ulong Value, string[] Reasons)
{
    public static KernelTaintSummary From(Kernel.KernelTaint taint) => new(taint.Letters, taint.Value, [.. taint.Reasons]);

    public override string ToString() => Value == 0 ? "Not tainted" : $"{Letters} ({Value})";
}
