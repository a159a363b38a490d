using LkmPowerShell.Engine.Audit;

namespace LkmPowerShell.Engine.Integrity;

/// <summary>
/// Audit findings from signature verdicts: an Invalid file (changed after signing, or a signature
/// the kernel refuses) is High; a file signed by a key none of the certificates holds is Medium
/// (a DKMS or vendor module whose key was not given, or a file re-signed by someone else); one
/// Informational finding per tree gives the counts.
/// </summary>
internal static class IntegrityFindings
{
    public static IEnumerable<AuditFinding> From(ModuleTreeVerification tree, string where)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(where);
        if (tree.KeyringProblem is not null)
            yield return new AuditFinding(AuditSeverity.Medium, AuditCheck.Coverage, AuditFinding.KernelSubject,
                $"The certificates of kernel {tree.KernelVersion} could not be read from its image, so its modules were checked against {(tree.Keyring.Certificates.Count == 0 ? "no certificate" : "the given certificates only")}.",
                [tree.KeyringProblem], [], $"Check that /boot/vmlinuz-{tree.KernelVersion} is the installed kernel's image, or give the signing certificate with -Certificate.");
        foreach (var check in tree.Checks)
            if (From(check, tree.KernelVersion, where) is { } finding)
                yield return finding;
        foreach (var (path, error) in tree.Failures)
            yield return new AuditFinding(AuditSeverity.Medium, AuditCheck.ModuleIntegrity, ModuleName.FromPath(path),
                $"The module file {path} could not be read, so its signature was not checked: {error.Message}", [path], [], "Run the audit as root, or reinstall the module's package.");
        yield return new AuditFinding(AuditSeverity.Informational, AuditCheck.ModuleIntegrity, AuditFinding.KernelSubject,
            $"{where} of kernel {tree.KernelVersion}: {tree.Checks.Count} module files checked: {Counts(tree.Checks)}.",
            [.. tree.Keyring.Certificates.Select(c => $"certificate: {c}")], [], null);
    }

    /// <summary>The finding for one verdict; null for Valid, Unsigned and Unsupported (the kernel's taint E reports those when loaded).</summary>
    public static AuditFinding? From(ModuleSignatureCheck check, string kernelVersion, string where)
    {
        ArgumentNullException.ThrowIfNull(check);
        var name = ModuleName.FromPath(check.Path);
        string[] evidence = [$"{check.Path}: {check.Verdict}: {check.Reason}", .. check.SignerKeyId is { } s ? new[] { $"signer: {s}" } : []];
        return check.Verdict switch
        {
            SignatureVerdict.Invalid => new AuditFinding(AuditSeverity.High, AuditCheck.ModuleIntegrity, name,
                $"{where}: {name} of kernel {kernelVersion} is not the module that was signed: {check.Reason}.", evidence, [AttackTechnique.KernelModules],
                $"Reinstall the package that owns it (dpkg -S {check.Path}; apt-get install --reinstall), and find out who changed it; the kernel refuses to load it."),
            SignatureVerdict.UnknownKey => new AuditFinding(AuditSeverity.Medium, AuditCheck.ModuleIntegrity, name,
                $"{where}: {name} of kernel {kernelVersion} is signed by a key the kernel image does not carry: {check.Reason}.", evidence, [AttackTechnique.KernelModules],
                "If it is a DKMS or vendor module, give its certificate (the MOK) with -Certificate; otherwise find out who signed and installed it."),
            _ => null,
        };
    }

    public static string Counts(IEnumerable<ModuleSignatureCheck> checks)
    {
        var counts = checks.GroupBy(c => c.Verdict).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}").ToArray();
        return counts.Length == 0 ? "none" : string.Join(", ", counts);
    }
}
