namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// Modules the kernel log says tainted the kernel but that no view lists any more (neither
/// /proc/modules nor /sys/module). User space cannot tell such a module that was unloaded from
/// one that unlinked itself and deleted its kobject: the kernel keeps no list of unloaded modules
/// (unless built with CONFIG_MODULE_UNLOAD_TAINT_TRACKING), so the finding says both.
/// </summary>
internal static class KernelLogChecks
{
    public static IEnumerable<AuditFinding> Check(KernelModuleViews views)
    {
        ArgumentNullException.ThrowIfNull(views);
        if (views.LogEvents is null)
        {
            yield return new AuditFinding(AuditSeverity.Informational, AuditCheck.Coverage, AuditFinding.KernelSubject,
                $"The kernel log was not read ({views.LogProblem}): modules it names cannot be compared with the lists.", [], [], null);
            yield break;
        }
        if (views.ProcModules is null) yield break;
        foreach (var group in views.LogEvents.GroupBy(e => e.Module))
        {
            var name = group.Key;
            // Listed modules are audited by name; one that is only in sysfs is already reported as hidden.
            if (views.ListedNames.Contains(name) || views.SysfsModules.ContainsKey(name)) continue;
            var letters = new string(group.Select(e => e.Letter).Distinct().ToArray());
            var evidence = new List<string>(group.Select(e => $"kernel log: {e.Line}"))
            {
                $"/proc/modules: no line for {name}",
                $"/sys/module/{name}: does not exist",
            };
            HiddenModuleChecks.AddKallsyms(evidence, views, name);
            yield return new AuditFinding(AuditSeverity.High, AuditCheck.KernelLog, name,
                $"The kernel log says {name} tainted the kernel ({letters}), but no view lists it any more: it was unloaded since, or it unlinked itself and deleted its /sys/module entry to hide.",
                [.. evidence], [AttackTechnique.KernelModules, AttackTechnique.Rootkit],
                $"If {name} was unloaded on purpose, this is expected until the next reboot. Otherwise look for its file and what loads it (/etc/modules-load.d, /etc/modprobe.d, the initramfs, services) and treat the machine as compromised.");
        }
    }
}
