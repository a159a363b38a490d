using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// The checks of one loaded module: its taint letters, whether the kernel verified its signature
/// and who signed the installed file, whether an installed file for the running kernel matches it
/// (name, srcversion, in-tree flag), and where that file lives. A module that passes everything
/// gets one Informational finding with its facts.
/// </summary>
internal sealed class ModuleChecks
{
    private readonly ModuleDirectory? _tree;
    private readonly bool _kernelChecksSignatures;
    private readonly SystemRoot _root;
    private readonly Integrity.KernelKeyring? _keyring;

    /// <param name="root">Where the installed modules are read.</param>
    /// <param name="release">The running kernel's release: whose /lib/modules tree to compare with.</param>
    /// <param name="kernelChecksSignatures">
    /// Whether the kernel verifies signatures at all (it then sets E on a module it could not
    /// verify); without that, a module without E proves nothing.
    /// </param>
    /// <param name="keyring">Non-null: verify each installed file's signature against these certificates.</param>
    public ModuleChecks(SystemRoot root, string? release, bool kernelChecksSignatures, Integrity.KernelKeyring? keyring = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        _root = root;
        _keyring = keyring;
        _kernelChecksSignatures = kernelChecksSignatures;
        if (release is null)
        {
            TreeFinding = TreeMissing("The running kernel's release cannot be read, so loaded modules cannot be compared with installed files.", []);
            return;
        }
        try
        {
            _tree = ModuleDirectory.Open(root, release);
        }
        catch (KernelNotInstalledException e)
        {
            TreeFinding = TreeMissing($"No modules are installed for the running kernel {release}, so loaded modules cannot be compared with installed files.",
                [$"{root.ModulesDirectory(release)}: does not exist", e.Message]);
        }
    }

    /// <summary>Set when the installed tree cannot be used; the file checks are then skipped.</summary>
    public AuditFinding? TreeFinding { get; }

    /// <summary>The checks of one module.</summary>
    /// <param name="name">The module's name.</param>
    /// <param name="taintLetters">Its own taint letters (sysfs, else /proc/modules).</param>
    /// <param name="sourceVersion">/sys/module/&lt;name&gt;/srcversion, null when absent.</param>
    /// <param name="view">Where the module was seen, for the evidence ("/proc/modules", "/sys/module only").</param>
    public IReadOnlyList<AuditFinding> Check(string name, string taintLetters, string? sourceVersion, string view)
    {
        var findings = new List<AuditFinding>();
        var facts = new List<string> { $"seen in: {view}", $"/sys/module/{name}/taint: {(taintLetters.Length > 0 ? taintLetters : "(none)")}" };
        var flags = KernelTaint.FlagsFromLetters(taintLetters);
        var unverified = flags.HasFlag(KernelTaintFlags.UnsignedModule);

        var (installed, file, fileProblem) = FindInstalled(name);
        if (installed is not null) facts.Add($"installed file: {installed.Path}");
        if (file?.Signature is { } sig)
            facts.Add($"installed file signed by: {sig.Signer ?? "(no signer name)"}, key {sig.FormatKeyId()}, {sig.HashAlgorithm}");
        else if (file is not null)
            facts.Add("installed file signature: none" + (file.SignatureProblem is { } p ? $" ({p})" : ""));
        if (sourceVersion is not null) facts.Add($"/sys/module/{name}/srcversion: {sourceVersion}");
        if (file?.GetValue("srcversion") is { } fileSrc) facts.Add($"installed file srcversion: {fileSrc}");

        if (_keyring is not null && installed is not null && _tree is not null)
        {
            try
            {
                var check = Integrity.ModuleSignatureVerifier.VerifyFile(installed.Path, _keyring, _root);
                facts.Add($"installed file signature check: {check.Verdict}: {check.Reason}");
                if (Integrity.IntegrityFindings.From(check, _tree.KernelVersion, "the installed file behind the loaded module") is { } integrity)
                    findings.Add(integrity);
            }
            catch (Exception e) when (Integrity.ModuleTreeVerification.IsReadFailure(e))
            {
                facts.Add($"installed file signature check: not done: {e.Message}");
            }
        }
        if (taintLetters.Length > 0)
            findings.Add(TaintFinding(name, taintLetters, facts));
        if (SignatureFinding(name, unverified, file, facts) is { } s)
            findings.Add(s);
        findings.AddRange(FileFindings(name, flags, sourceVersion, installed, file, fileProblem, facts));

        if (findings.Count == 0)
            findings.Add(new AuditFinding(AuditSeverity.Informational, AuditCheck.Module, name,
                $"{name}: {Describe(file, installed, unverified)}.", [.. facts], [], null));
        return findings;
    }

    private (InstalledModule?, ModuleFileInfo?, string?) FindInstalled(string name)
    {
        if (_tree is null) return (null, null, null);
        InstalledModule? installed;
        try
        {
            installed = _tree.FindModule(name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModuleFormatException)
        {
            return (null, null, $"the module index of {_tree.Path} cannot be read: {e.Message}");
        }
        if (installed is null) return (null, null, null);
        try
        {
            return (installed, ModuleFileReader.Read(installed.Path), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModuleFormatException or NativeLibraryMissingException)
        {
            return (installed, null, e.Message);
        }
    }

    private static AuditFinding TaintFinding(string name, string letters, List<string> facts)
    {
        var severity = AuditSeverity.Low;
        var meanings = new List<string>();
        foreach (var c in letters)
        {
            meanings.Add($"{c} ({KernelTaint.MeaningOf(c) ?? "unknown to this version"})");
            var s = c switch
            {
                'F' => AuditSeverity.High,
                'E' => AuditSeverity.Medium,
                _ => AuditSeverity.Low,
            };
            if (s > severity) severity = s;
        }
        return new AuditFinding(severity, AuditCheck.ModuleTaint, name,
            $"{name} taints the kernel: {string.Join(", ", meanings)}.", [.. facts], [AttackTechnique.KernelModules],
            $"Find out where {name} comes from (its package, DKMS, a vendor). If nobody installed it on purpose, treat it as suspect: unload it (rmmod {name}) and find what loads it (/etc/modules-load.d, /etc/modprobe.d, the initramfs, services).");
    }

    private AuditFinding? SignatureFinding(string name, bool unverified, ModuleFileInfo? file, List<string> facts)
    {
        var signed = file?.Signature is not null;
        if (unverified && signed)
            return new AuditFinding(AuditSeverity.High, AuditCheck.ModuleSignature, name,
                $"The installed file of {name} is signed, but the kernel could not verify the loaded module (taint E): a different file was loaded, or it was signed with a key the kernel does not trust.",
                [.. facts], [AttackTechnique.KernelModules],
                $"Compare the loaded module with its package (dpkg -S, dpkg --verify), and find who loaded {name} from where.");
        if (unverified)
            return new AuditFinding(AuditSeverity.Medium, AuditCheck.ModuleSignature, name,
                $"{name} is not signed with a key the kernel trusts (taint E): nothing vouches for its code.",
                [.. facts], [AttackTechnique.KernelModules],
                $"Sign modules you build yourself with a key enrolled in the kernel's keyring (MOK), and enforce signatures (module.sig_enforce=1) so that unsigned modules cannot load.");
        if (_kernelChecksSignatures && file is not null && !signed)
            return new AuditFinding(AuditSeverity.Medium, AuditCheck.ModuleSignature, name,
                $"The kernel accepted {name}'s signature, but its installed file carries none: the loaded module is not the installed file.",
                [.. facts], [AttackTechnique.KernelModules], "Reinstall the module's package and find out which file was loaded.");
        return null;
    }

    private IEnumerable<AuditFinding> FileFindings(string name, KernelTaintFlags flags, string? sourceVersion,
        InstalledModule? installed, ModuleFileInfo? file, string? problem, List<string> facts)
    {
        if (_tree is null) yield break;
        if (installed is null && problem is null)
        {
            yield return new AuditFinding(AuditSeverity.High, AuditCheck.ModuleFile, name,
                $"No file named {name} is installed for the running kernel {_tree.KernelVersion}: it was loaded from somewhere else (a path such as /tmp), or its file was removed after loading.",
                [.. facts, $"{_tree.Path}: no module named {name} in its index"], [AttackTechnique.KernelModules],
                $"Find the file it came from (the shell history, audit logs of init_module/finit_module calls) and why it is not installed; if it should not be there, unload it (rmmod {name}).");
            yield break;
        }
        if (problem is not null)
        {
            yield return new AuditFinding(AuditSeverity.Medium, AuditCheck.ModuleFile, name,
                $"The installed file of {name} cannot be read, so it cannot be compared with the loaded module: {problem}",
                [.. facts], [], "Run the audit as root, or repair the module's package.");
            yield break;
        }
        var fileSrc = file!.GetValue("srcversion");
        if (sourceVersion is not null && fileSrc is not null && sourceVersion != fileSrc)
            yield return new AuditFinding(AuditSeverity.High, AuditCheck.ModuleFile, name,
                $"The loaded {name} was built from other sources than the installed file (srcversion {sourceVersion} loaded, {fileSrc} installed): another file was loaded, or the file was replaced after loading.",
                [.. facts], [AttackTechnique.KernelModules],
                $"Compare the installed file with its package (dpkg --verify), and reload {name} from it if it is genuine.");
        var fileInTree = file.GetValue("intree") == "Y";
        if (fileInTree && flags.HasFlag(KernelTaintFlags.OutOfTreeModule))
            yield return new AuditFinding(AuditSeverity.High, AuditCheck.ModuleFile, name,
                $"The installed {name} is an in-tree module, but the loaded one is out-of-tree (taint O): the loaded module is not the installed file.",
                [.. facts], [AttackTechnique.KernelModules], $"Find which file was loaded as {name}, and reload the installed one.");
        if (!installed!.IndexPath.StartsWith("kernel/", StringComparison.Ordinal))
            yield return new AuditFinding(AuditSeverity.Low, AuditCheck.ModuleOrigin, name,
                $"{name} is installed outside the kernel's own tree, in {installed.IndexPath.Split('/')[0]}/ (DKMS, a vendor, or a local build).",
                [.. facts], [AttackTechnique.KernelModules],
                $"Check that a package you trust owns {installed.Path} (dpkg -S).");
    }

    private static string Describe(ModuleFileInfo? file, InstalledModule? installed, bool unverified)
    {
        var parts = new List<string>();
        if (file?.Signature is { } sig) parts.Add($"signed by {sig.Signer ?? "an unnamed signer"} (key {sig.FormatKeyId()})");
        else if (!unverified) parts.Add("the kernel raised no signature taint");
        if (installed is not null) parts.Add($"installed as {installed.IndexPath}");
        parts.Add("no taint");
        return string.Join(", ", parts);
    }

    private static AuditFinding TreeMissing(string message, string[] evidence) =>
        new(AuditSeverity.Medium, AuditCheck.ModuleTree, AuditFinding.KernelSubject, message, evidence, [],
            "Install the running kernel's modules (its linux-image package), or audit with the root the system runs from.");
}
