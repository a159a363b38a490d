using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// Cross-views between what lists loaded modules and what betrays them. lsmod and every tool
/// built on it read /proc/modules, which the kernel prints from its list of modules; a rootkit
/// that unlinks itself from that list (list_del on THIS_MODULE->list) vanishes from it and from
/// /proc/kallsyms, but keeps its /sys/module directory unless it also deletes its kobject.
/// </summary>
internal static class HiddenModuleChecks
{
    private const string RootkitRemedy =
        "A module that unlinks itself from the kernel's module list cannot be unloaded (the kernel finds modules to unload through that list), and can hide files, processes and connections. " +
        "Treat the machine as compromised: keep a memory image if you need forensics, take it off the network, and reinstall or boot trusted media; " +
        "then find how the module was loaded (/etc/modules-load.d, /etc/modprobe.d install lines, the initramfs, services, cron).";

    /// <summary>Modules with a loaded module's /sys/module directory but no line in /proc/modules.</summary>
    public static IEnumerable<AuditFinding> SysfsWithoutList(KernelModuleViews views)
    {
        ArgumentNullException.ThrowIfNull(views);
        if (views.ProcModules is null) yield break;
        foreach (var (name, info) in views.SysfsModules.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (views.ListedNames.Contains(name)) continue;
            var evidence = new List<string>
            {
                $"/sys/module/{name}/initstate: {InitState(info)} (only loadable modules have one; built-ins do not)",
                $"/sys/module/{name}/taint: {(string.IsNullOrEmpty(info.Taint) ? "(none)" : info.Taint)}",
                $"/proc/modules: no line for {name} (what lsmod prints)",
            };
            if (info.CoreSize is { } size) evidence.Add($"/sys/module/{name}/coresize: {size}");
            if (info.SourceVersion is { } src) evidence.Add($"/sys/module/{name}/srcversion: {src}");
            AddKallsyms(evidence, views, name);
            AddLog(evidence, views, name);
            yield return new AuditFinding(AuditSeverity.Critical, AuditCheck.HiddenFromModuleList, name,
                $"{name} is loaded (its /sys/module entry is {InitState(info)}) but hidden from /proc/modules, so lsmod does not show it: it unlinked itself from the kernel's module list, as rootkits do.",
                [.. evidence], [AttackTechnique.KernelModules, AttackTechnique.Rootkit], RootkitRemedy);
        }
    }

    /// <summary>Modules in /proc/modules without their /sys/module directory: a deleted kobject.</summary>
    public static IEnumerable<AuditFinding> ListWithoutSysfs(KernelModuleViews views, SysModuleReader sysfs)
    {
        ArgumentNullException.ThrowIfNull(views);
        ArgumentNullException.ThrowIfNull(sysfs);
        foreach (var entry in views.ProcModules ?? [])
        {
            // A module still loading has no sysfs directory yet, and one unloading has lost it already.
            if (entry.State != ModuleState.Live) continue;
            if (views.SysfsModules.ContainsKey(entry.Name)) continue;
            // Its directory appeared since (it was still loading), or it is gone from /proc/modules
            // now (it unloaded meanwhile): a race, not a finding.
            if (Directory.Exists(sysfs.ModuleDirectory(entry.Name)) || StillListed(sysfs.Root, entry.Name) is false) continue;
            yield return new AuditFinding(AuditSeverity.High, AuditCheck.MissingFromSysfs, entry.Name,
                $"{entry.Name} is listed in /proc/modules but has no /sys/module/{entry.Name} directory: its kobject was deleted, which hides it from tools that read sysfs.",
                [$"/proc/modules: {entry.Name} {entry.Size} {entry.State}{(entry.Taints.Length > 0 ? $" ({entry.Taints})" : "")}", $"/sys/module/{entry.Name}: does not exist"],
                [AttackTechnique.KernelModules, AttackTechnique.Rootkit],
                $"Unload {entry.Name} (rmmod {entry.Name}) if nobody needs it, and find where it came from.");
        }
    }

    /// <summary>Owners of symbols in /proc/kallsyms that /proc/modules does not list, and listed modules without symbols.</summary>
    public static IEnumerable<AuditFinding> Kallsyms(KernelModuleViews views)
    {
        ArgumentNullException.ThrowIfNull(views);
        if (views.KallsymsOwners is not { } owners || views.ProcModules is null) yield break;
        foreach (var owner in owners.Order(StringComparer.Ordinal))
        {
            if (views.ListedNames.Contains(owner)) continue;
            // Built-in code never has an owner in kallsyms; "bpf" and "__builtin__*" pseudo-owners are not modules.
            if (owner is "bpf" || owner.StartsWith("__builtin", StringComparison.Ordinal)) continue;
            var evidence = new List<string> { $"/proc/kallsyms: symbols owned by [{owner}]", $"/proc/modules: no line for {owner}" };
            if (views.SysfsModules.TryGetValue(owner, out var info)) evidence.Add($"/sys/module/{owner}/initstate: {InitState(info)}");
            AddLog(evidence, views, owner);
            yield return new AuditFinding(AuditSeverity.Critical, AuditCheck.KallsymsOwner, owner,
                $"/proc/kallsyms has symbols of a module {owner} that /proc/modules does not list: something filters the module list.",
                [.. evidence], [AttackTechnique.KernelModules, AttackTechnique.Rootkit], RootkitRemedy);
        }
        foreach (var entry in views.ProcModules)
        {
            if (entry.State != ModuleState.Live || owners.Contains(entry.Name)) continue;
            yield return new AuditFinding(AuditSeverity.Low, AuditCheck.KallsymsOwner, entry.Name,
                $"{entry.Name} is listed in /proc/modules but owns no symbol in /proc/kallsyms.",
                [$"/proc/modules: {entry.Name}", $"/proc/kallsyms: nothing owned by [{entry.Name}]"], [AttackTechnique.KernelModules],
                "A module without symbols is unusual; check that kallsyms is not being filtered, and where the module comes from.");
        }
    }

    private static bool? StillListed(SystemRoot root, string name)
    {
        try { return new ProcModulesReader(root).Read().Any(e => e.Name == name); }
        catch (Exception e) when (e is IOException or ModuleFormatException) { return null; }
    }

    /// <summary>initstate as the kernel writes it.</summary>
    internal static string InitState(SysModuleInfo info) => info.State switch
    {
        ModuleState.Live => "live",
        ModuleState.Loading => "coming",
        ModuleState.Unloading => "going",
        _ => "(unreadable)",
    };

    internal static void AddKallsyms(List<string> evidence, KernelModuleViews views, string name)
    {
        if (views.KallsymsOwners is { } owners)
            evidence.Add(owners.Contains(name) ? $"/proc/kallsyms: has symbols owned by [{name}]" : $"/proc/kallsyms: no symbol owned by [{name}] (the kernel lists symbols through the same module list)");
    }

    internal static void AddLog(List<string> evidence, KernelModuleViews views, string name)
    {
        foreach (var e in views.LogEvents ?? [])
            if (e.Module == name) evidence.Add($"kernel log: {e.Line}");
    }
}
