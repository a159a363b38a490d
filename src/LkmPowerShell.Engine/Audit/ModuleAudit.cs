using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// The security audit of the loaded modules (MITRE ATT&amp;CK T1547.006): reads every view once,
/// runs the kernel-wide, per-module and cross-view checks, and returns the findings as data.
/// Everything is read under a <see cref="SystemRoot"/>, so a saved or fabricated /proc and /sys
/// are audited like the running system.
/// </summary>
public static class ModuleAudit
{
    /// <param name="root">The system to audit.</param>
    /// <param name="selectModule">
    /// Null to audit everything; otherwise only modules whose name it accepts are audited, and the
    /// kernel-wide checks are left out.
    /// </param>
    /// <param name="progress">Told how far the audit has come (on the audit's own thread); null: not told.</param>
    public static AuditReport Run(SystemRoot root, Func<string, bool>? selectModule = null, Action<AuditProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        var kernel = new RunningKernel(root);
        progress?.Invoke(new AuditProgress("reading the kernel's views", 0, 0));
        var views = KernelModuleViews.Read(kernel);
        var settings = KernelSecuritySettings.Read(root);
        var select = selectModule ?? (_ => true);
        var findings = new List<AuditFinding>();

        if (selectModule is null)
        {
            if (views.ProcModules is null)
                findings.Add(new AuditFinding(AuditSeverity.Informational, AuditCheck.Coverage, AuditFinding.KernelSubject,
                    kernel.ModulesUnsupportedReason ?? "The kernel has no loadable-module support.", [$"{kernel.ProcModules.Path}: does not exist"], [], null));
            findings.AddRange(TaintChecks.Check(views));
            findings.AddRange(KernelSettingsChecks.Check(settings, root));
            if (views.KallsymsOwners is null && views.ProcModules is not null)
                findings.Add(new AuditFinding(AuditSeverity.Informational, AuditCheck.Coverage, AuditFinding.KernelSubject,
                    $"The kallsyms cross-view did not run: {views.KallsymsProblem}.", [], [], null));
        }

        var hidden = new List<AuditFinding>();
        hidden.AddRange(HiddenModuleChecks.SysfsWithoutList(views));
        // Without /sys/module (a saved image with proc/ only) the sysfs cross-view has nothing to compare:
        // it did not run, as for kallsyms; no module is "missing from sysfs".
        if (kernel.SysModules.Exists)
            hidden.AddRange(HiddenModuleChecks.ListWithoutSysfs(views, kernel.SysModules));
        else if (selectModule is null && views.ProcModules is not null)
            findings.Add(new AuditFinding(AuditSeverity.Informational, AuditCheck.Coverage, AuditFinding.KernelSubject,
                $"The sysfs cross-view did not run: {kernel.SysModules.Path} does not exist (sysfs not mounted, or an image saved without sys/).", [], [], null));
        hidden.AddRange(HiddenModuleChecks.Kallsyms(views));
        var memory = ModuleMemoryChecks.Check(views).ToList();
        hidden.AddRange(memory.Where(f => f.Check != AuditCheck.Coverage));
        if (selectModule is null) findings.AddRange(memory.Where(f => f.Check == AuditCheck.Coverage));
        var logFindings = KernelLogChecks.Check(views).ToList();
        hidden.AddRange(logFindings.Where(f => f.Check != AuditCheck.Coverage));
        if (selectModule is null) findings.AddRange(logFindings.Where(f => f.Check == AuditCheck.Coverage));
        findings.AddRange(hidden.Where(f => select(f.Subject)));

        var audited = new List<string>();
        if (views.ProcModules is not null)
        {
            var checks = new ModuleChecks(root, views.Release, settings.SignatureEnforcement is not null);
            if (checks.TreeFinding is { } tree && selectModule is null) findings.Add(tree);
            var done = 0;
            foreach (var entry in views.ProcModules)
            {
                progress?.Invoke(new AuditProgress("checking each loaded module", done++, views.ProcModules.Count, entry.Name));
                if (!select(entry.Name)) continue;
                views.SysfsModules.TryGetValue(entry.Name, out var sys);
                audited.Add(entry.Name);
                findings.AddRange(checks.Check(entry.Name, sys?.Taint ?? entry.Taints, sys?.SourceVersion, "/proc/modules"));
            }
            // A module hidden from the list but still in sysfs gets the per-module checks too.
            foreach (var (name, sys) in views.SysfsModules.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (views.ListedNames.Contains(name) || !select(name)) continue;
                audited.Add(name);
                findings.AddRange(checks.Check(name, sys.Taint ?? "", sys.SourceVersion, "/sys/module only"));
            }
        }

        var hiddenNames = hidden
            .Where(f => f.Severity >= AuditSeverity.High && f.Check is AuditCheck.HiddenFromModuleList or AuditCheck.KallsymsOwner or AuditCheck.KernelLog or AuditCheck.MissingFromSysfs
                && f.Subject != AuditFinding.KernelSubject)
            .Select(f => f.Subject).Where(select).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

        // Most severe first; within a severity the checks keep the order they ran in.
        var ordered = findings.Select((f, i) => (f, i)).OrderByDescending(p => p.f.Severity).ThenBy(p => p.i).Select(p => p.f).ToArray();
        return new AuditReport(views.Release, views.Taint is { } t ? KernelTaintSummary.From(t) : null, [.. audited], hiddenNames, ordered);
    }
}
