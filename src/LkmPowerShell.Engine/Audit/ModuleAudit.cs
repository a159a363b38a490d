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
    /// <param name="verifyFiles">
    /// Non-null: verify the signature of each loaded module's installed file against the running
    /// kernel's image certificates and these (the user's MOK or vendor keys; may be empty).
    /// </param>
    /// <param name="progress">Told how far the audit has come (on the audit's own thread); null: not told.</param>
    public static AuditReport Run(SystemRoot root, Func<string, bool>? selectModule = null, IEnumerable<Integrity.TrustedCertificate>? verifyFiles = null, Action<AuditProgress>? progress = null)
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
            if (views.Release is { } running)
                findings.AddRange(KnownRootkitChecks.ModuleFiles(root, running));
        }
        findings.AddRange(KnownRootkitChecks.Symbols(views).Where(f => selectModule is null || select(f.Subject)));

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
            Integrity.KernelKeyring? keyring = null;
            if (verifyFiles is not null && views.Release is { } release)
            {
                var (loaded, problem) = Integrity.ModuleTreeVerification.LoadKeyring(root, release, verifyFiles);
                keyring = loaded;
                if (problem is not null && selectModule is null)
                    findings.Add(new AuditFinding(AuditSeverity.Medium, AuditCheck.Coverage, AuditFinding.KernelSubject,
                        $"The certificates of the running kernel {release} could not be read from its image, so the installed files were checked against {(loaded.Certificates.Count == 0 ? "no certificate" : "the given certificates only")}.",
                        [problem], [], $"Check that /boot/vmlinuz-{release} is the running kernel's image, or give the signing certificate with -Certificate."));
            }
            var checks = new ModuleChecks(root, views.Release, settings.SignatureEnforcement is not null, keyring);
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

    /// <summary>
    /// The audit of what is installed rather than what is loaded: every module file of each kernel
    /// (all installed kernels when <paramref name="kernelVersions"/> is null) verified against that
    /// kernel's image certificates and <paramref name="extra"/>, and each kernel's initramfs
    /// (/boot/initrd.img-VERSION): its modules' signatures, copies that differ from the installed
    /// files, modules no installed kernel has, and modules disabled outside it only.
    /// </summary>
    public static AuditReport RunInstalled(SystemRoot root, IReadOnlyList<string>? kernelVersions = null,
        IEnumerable<Integrity.TrustedCertificate>? extra = null, Func<string, bool>? selectModule = null, int threads = 2)
    {
        ArgumentNullException.ThrowIfNull(root);
        var given = extra?.ToArray() ?? [];
        var versions = kernelVersions ?? ModuleTree.ModuleDirectory.InstalledKernelVersions(root);
        var findings = new List<AuditFinding>();
        var audited = new SortedSet<string>(StringComparer.Ordinal);
        if (versions.Count == 0)
            findings.Add(new AuditFinding(AuditSeverity.Informational, AuditCheck.ModuleTree, AuditFinding.KernelSubject,
                $"No kernel's modules are installed under {root.ModulesFolder}.", [], [], null));
        foreach (var version in versions)
        {
            ModuleTree.ModuleDirectory tree;
            try
            {
                tree = ModuleTree.ModuleDirectory.Open(root, version);
            }
            catch (ModuleTree.KernelNotInstalledException e)
            {
                findings.Add(new AuditFinding(AuditSeverity.Medium, AuditCheck.ModuleTree, AuditFinding.KernelSubject, e.Message, [], [], null));
                continue;
            }
            var verification = Integrity.ModuleTreeVerification.Run(tree, given, selectModule, threads);
            foreach (var check in verification.Checks) audited.Add(ModuleName.FromPath(check.Path));
            findings.AddRange(Integrity.IntegrityFindings.From(verification, $"installed tree {tree.Path}"));
            try
            {
                if (Initramfs.InitramfsAudit.Run(root, version, given, selectModule) is { } initramfs)
                    findings.AddRange(initramfs.Findings);
                else
                    findings.Add(new AuditFinding(AuditSeverity.Informational, AuditCheck.Initramfs, AuditFinding.KernelSubject,
                        $"Kernel {version} has no initramfs ({Initramfs.InitramfsImage.PathFor(root, version)} does not exist).", [], [], null));
            }
            catch (Exception e) when (Integrity.ModuleTreeVerification.IsReadFailure(e))
            {
                findings.Add(new AuditFinding(AuditSeverity.Medium, AuditCheck.Initramfs, AuditFinding.KernelSubject,
                    $"The initramfs of kernel {version} cannot be read: {e.Message}", [Initramfs.InitramfsImage.PathFor(root, version)], [],
                    $"Rebuild it (update-initramfs -u -k {version}); a damaged initramfs may not boot."));
            }
        }
        var ordered = findings.Select((f, i) => (f, i)).OrderByDescending(p => p.f.Severity).ThenBy(p => p.i).Select(p => p.f).ToArray();
        return new AuditReport(string.Join(", ", versions), null, [.. audited], [], ordered);
    }
}
