using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// The checks rkhunter makes by name (<see cref="KnownRootkitNames"/>): kernel symbols named as a
/// public rootkit's, and module files named as known bad modules in the running kernel's tree.
/// Each finding names the rootkit family and where the name comes from. A name is a lead, never
/// proof: these findings are at most High, and no Critical finding rests on them (the hidden
/// module checks reach Critical from what the kernel's own lists disagree on).
/// </summary>
internal static class KnownRootkitChecks
{
    private const string Lead = "a name is easily changed or shared, so this is a lead to confirm with the audit's other views, not proof";

    /// <summary>Symbols in /proc/kallsyms named as a known rootkit's, one finding per owner (a module, or the kernel image).</summary>
    public static IEnumerable<AuditFinding> Symbols(KernelModuleViews views)
    {
        ArgumentNullException.ThrowIfNull(views);
        if (views.KnownRootkitSymbols is not { Count: > 0 } found) yield break;
        foreach (var group in found.GroupBy(s => s.Module ?? AuditFinding.KernelSubject).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var names = group.Select(s => KnownRootkitNames.Symbols[s.Name]).ToArray();
            var families = string.Join(", ", names.Select(n => n.Family).Distinct(StringComparer.Ordinal));
            var where = group.Key == AuditFinding.KernelSubject ? "in no module (the kernel image, or code that hides its owner)" : $"in module {group.Key}";
            yield return new AuditFinding(AuditSeverity.High, AuditCheck.KnownRootkitName, group.Key,
                $"/proc/kallsyms has {names.Length} symbol{(names.Length == 1 ? "" : "s")} named as the {families} rootkit's ({string.Join(", ", group.Select(s => s.Name).Distinct(StringComparer.Ordinal))}), {where}: {Lead}.",
                [.. group.Select(s => $"{KallsymsReader.SystemPath}: {s}"), .. names.DistinctBy(n => n.Name).Select(n => $"known name: {n}")],
                [AttackTechnique.Rootkit, AttackTechnique.KernelModules],
                group.Key == AuditFinding.KernelSubject
                    ? "Find the code these symbols belong to (their addresses against the module areas in /proc/vmallocinfo); a public rootkit's names in a running kernel call for a memory image and trusted media."
                    : $"Look at {group.Key}: its file (Get-KernelModule -Name {group.Key} -CheckSignature), its signer and who installed it; a public rootkit's names in a running kernel call for a memory image and trusted media.");
        }
    }

    /// <summary>Module files under the kernel's tree named as known bad modules (compression suffix ignored).</summary>
    /// <param name="root">The system.</param>
    /// <param name="release">The kernel whose tree (/lib/modules/&lt;release&gt;) is looked at.</param>
    public static IEnumerable<AuditFinding> ModuleFiles(SystemRoot root, string release)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentException.ThrowIfNullOrEmpty(release);
        if (release.Contains('/') || release is "." or "..") yield break;
        var tree = root.ModulesDirectory(release);
        if (!Directory.Exists(tree)) yield break;
        // Links are not followed (a link out of the root is never entered); names are only compared.
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true, MaxRecursionDepth = 32 };
        var hits = new List<(string Path, KnownRootkitName Name)>();
        foreach (var path in Directory.EnumerateFiles(tree, "*", options))
            if (KnownRootkitNames.ModuleFile(Path.GetFileName(path)) is { } known)
                hits.Add((path, known));
        foreach (var (path, known) in hits.OrderBy(h => h.Path, StringComparer.Ordinal))
        {
            var module = ModuleName.FromPath(Path.GetFileName(path));
            yield return new AuditFinding(AuditSeverity.Medium, AuditCheck.KnownRootkitName, module,
                $"The module tree of kernel {release} holds {Path.GetFileName(path)}, a file name {known.Source} lists as a known bad kernel module ({known.Family}): {Lead}.",
                [$"file: {path}", $"known name: {known}"], [AttackTechnique.KernelModules],
                $"Find out what installed it (dpkg -S {path}; Test-KernelModule -Installed for its signature) and remove it if nothing you trust did; check whether it is loaded (Test-KernelModule).");
        }
    }
}
