using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// The kernel's taint: decoded flag by flag (a fact), and the module taint bits that no module in
/// /proc/modules carries. The kernel never clears a taint bit, so an unexplained one means a
/// module that set it is no longer listed: it was unloaded, or it hides.
/// </summary>
internal static class TaintChecks
{
    public static IEnumerable<AuditFinding> Check(KernelModuleViews views)
    {
        ArgumentNullException.ThrowIfNull(views);
        if (views.Taint is not { } taint)
        {
            yield return new AuditFinding(AuditSeverity.Informational, AuditCheck.Coverage, AuditFinding.KernelSubject,
                $"{KernelTaint.SystemPath} cannot be read: the taint checks did not run.", [], [], null);
            yield break;
        }

        var bits = KernelTaint.Table.Where(t => (taint.Value & (1UL << t.Bit)) != 0)
            .Select(t => $"{t.Letter} (bit {t.Bit}): {t.Meaning}").ToList();
        yield return new AuditFinding(AuditSeverity.Informational, AuditCheck.KernelTaint, AuditFinding.KernelSubject,
            taint.IsTainted ? $"The kernel is tainted: {taint.Letters} ({taint.Value})." : "The kernel is not tainted.",
            [$"{KernelTaint.SystemPath}: {taint.Value}", .. bits, .. taint.Reasons.Where(r => r.StartsWith('?'))], [], null);

        if (views.ProcModules is null) yield break;
        var explained = KernelTaintFlags.None;
        foreach (var m in views.ProcModules)
            explained |= KernelTaint.FlagsFromLetters(m.Taints);
        foreach (var name in views.ListedNames)
            if (views.SysfsModules.TryGetValue(name, out var listed))
                explained |= KernelTaint.FlagsFromLetters(listed.Taint);

        var unexplained = taint.Flags & KernelTaint.ModuleFlags & ~explained;
        if (unexplained == KernelTaintFlags.None) yield break;

        var letters = KernelTaint.LettersOf(unexplained);
        var evidence = new List<string>
        {
            $"{KernelTaint.SystemPath}: {taint.Value} ({taint.Letters})",
            $"/proc/modules: no listed module carries {string.Join(" or ", letters.Select(c => c.ToString()))}",
        };
        foreach (var (name, info) in views.SysfsModules)
            if (!views.ListedNames.Contains(name) && (KernelTaint.FlagsFromLetters(info.Taint) & unexplained) != 0)
                evidence.Add($"/sys/module/{name}/taint: {info.Taint} (not in /proc/modules)");
        foreach (var e in views.LogEvents ?? [])
            if (!views.ListedNames.Contains(e.Module) && letters.Contains(e.Letter))
                evidence.Add($"kernel log: {e.Line}");
        if (views.LogEvents is null && views.LogProblem is { } p)
            evidence.Add($"kernel log: not read ({p})");

        yield return new AuditFinding(AuditSeverity.High, AuditCheck.UnexplainedTaint, AuditFinding.KernelSubject,
            $"The kernel carries module taint {letters} that no module in /proc/modules explains: a module that set it was unloaded since, or hides itself.",
            [.. evidence], [AttackTechnique.KernelModules, AttackTechnique.Rootkit],
            "If you unloaded such a module yourself (the kernel log names the first out-of-tree and unsigned ones), this is expected until the next reboot. Otherwise treat it as a hidden module: compare with a boot from trusted media.");
    }
}
