using LkmPowerShell.Engine.Audit;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.Integrity;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Initramfs;

/// <summary>One module of an initramfs: its signature verdict and how it compares with the installed file.</summary>
/// <param name="Module">The module as the initramfs carries it.</param>
/// <param name="Signature">Its signature verdict against its kernel's image certificates (and the user's).</param>
/// <param name="InstalledPath">The installed file of the same name for the same kernel; null when none is installed.</param>
/// <param name="SameAsInstalled">Whether the bytes (decompressed) equal the installed file's; null when there is none or it cannot be read.</param>
/// <param name="DisabledBySystem">The system's modprobe.d line that disables or blacklists it, when one does.</param>
/// <param name="DisabledInInitramfs">Whether the initramfs's own modprobe.d disables or blacklists it too.</param>
public sealed record InitramfsModuleState(InitramfsModule Module, ModuleSignatureCheck Signature, string? InstalledPath, bool? SameAsInstalled,
    string? DisabledBySystem, bool DisabledInInitramfs);

/// <summary>
/// What the initramfs of one kernel carries and what is wrong with it. The initramfs loads its
/// modules before the root file system (and its /etc/modprobe.d) is mounted, so a module disabled
/// the CIS way after the initramfs was built still loads at boot, and a changed copy inside it is
/// never looked at by anything that checks /lib/modules.
/// </summary>
public sealed record InitramfsAudit(string KernelVersion, InitramfsImage Image, IReadOnlyList<InitramfsModuleState> Modules, IReadOnlyList<AuditFinding> Findings)
{
    /// <summary>
    /// Audits /boot/initrd.img-<paramref name="kernelVersion"/> under the root. Null when the kernel has no initramfs.
    /// </summary>
    /// <param name="root">The system.</param>
    /// <param name="kernelVersion">Whose initramfs.</param>
    /// <param name="extra">Certificates the user gave, besides each kernel image's.</param>
    /// <param name="select">Only modules whose names it accepts (all when null).</param>
    /// <exception cref="ModuleFormatException">The initramfs is damaged or hostile beyond reading.</exception>
    public static InitramfsAudit? Run(SystemRoot root, string kernelVersion, IEnumerable<TrustedCertificate>? extra = null, Func<string, bool>? select = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        var path = InitramfsImage.PathFor(root, kernelVersion);
        InitramfsImage image;
        try
        {
            image = InitramfsImage.Read(path, root);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        return Check(root, kernelVersion, image, extra, select);
    }

    /// <summary>The checks over an initramfs already read.</summary>
    public static InitramfsAudit Check(SystemRoot root, string kernelVersion, InitramfsImage image, IEnumerable<TrustedCertificate>? extra = null, Func<string, bool>? select = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(image);
        var given = extra?.ToArray() ?? [];
        var findings = new List<AuditFinding>();
        var keyrings = new Dictionary<string, KernelKeyring>(StringComparer.Ordinal);
        var trees = new Dictionary<string, ModuleDirectory?>(StringComparer.Ordinal);
        var systemConfigs = new Dictionary<string, ModprobeConfig>(StringComparer.Ordinal);
        var inner = ModprobeConfig.Parse(string.Join('\n', image.ModprobeFiles.Select(f => f.Text)), "the initramfs's modprobe.d");
        var where = $"initramfs {image.Path}";

        foreach (var entry in image.Unsafe)
            findings.Add(new AuditFinding(AuditSeverity.Medium, AuditCheck.Initramfs, AuditFinding.KernelSubject,
                $"{where} holds an entry whose name leaves the initramfs root ('{entry.Name}'): a damaged or crafted archive.",
                [$"{image.Path}: entry '{entry.Name}', mode {Convert.ToString(entry.Mode, 8)}"], [AttackTechnique.KernelModules],
                $"Rebuild it (update-initramfs -u -k {kernelVersion}) and find out what wrote it."));

        var states = new List<InitramfsModuleState>();
        foreach (var module in image.Modules)
        {
            if (!(select?.Invoke(module.Name) ?? true)) continue;
            var version = module.KernelVersion;
            if (!keyrings.TryGetValue(version, out var keyring))
            {
                var (loaded, problem) = ModuleTreeVerification.LoadKeyring(root, version, given);
                keyrings[version] = keyring = loaded;
                if (problem is not null)
                    findings.Add(new AuditFinding(AuditSeverity.Medium, AuditCheck.Coverage, AuditFinding.KernelSubject,
                        $"The certificates of kernel {version} could not be read, so the modules {where} carries for it were checked against {(loaded.Certificates.Count == 0 ? "no certificate" : "the given certificates only")}.",
                        [problem], [], $"Check /boot/vmlinuz-{version}, or give the signing certificate with -Certificate."));
            }
            if (!trees.TryGetValue(version, out var tree))
            {
                trees[version] = tree = OpenTree(root, version);
                if (tree is not null) systemConfigs[version] = ModprobeConfig.Load(root, tree);
            }
            var signature = Verify(module, image.Path, keyring);
            var installed = tree?.FindModule(module.Name);
            var same = installed is null ? null : SameBytes(module, installed.Path, root);
            var block = tree is null ? null : ModuleLoadBlock.Of(systemConfigs[version], module.Name);
            var blockedBy = block is null ? null : (block.DisabledBy ?? block.BlacklistedBy)?.ToString();
            var innerBlock = ModuleLoadBlock.Of(inner, module.Name);
            var state = new InitramfsModuleState(module, signature, installed?.Path, same, blockedBy, innerBlock.Disabled || innerBlock.Blacklisted);
            states.Add(state);
            findings.AddRange(ModuleFindings(state, where, image.Path, tree is not null));
        }
        findings.Add(Summary(image, kernelVersion, states));
        return new InitramfsAudit(kernelVersion, image, states, findings);
    }

    private static ModuleDirectory? OpenTree(SystemRoot root, string version)
    {
        try
        {
            return ModuleDirectory.Open(root, version);
        }
        catch (KernelNotInstalledException)
        {
            return null;
        }
    }

    private static ModuleSignatureCheck Verify(InitramfsModule module, string imagePath, KernelKeyring keyring)
    {
        var shown = $"{imagePath}:{module.ArchivePath}";
        try
        {
            var bytes = module.Data.Span;
            var kind = ModuleDecompressor.Detect(bytes);
            var image = kind == ModuleCompression.None ? bytes : ModuleDecompressor.Decompress(bytes, kind, shown, FileLimits.DecompressedModule.MaxBytes);
            return ModuleSignatureVerifier.Verify(image, shown, keyring);
        }
        catch (Exception e) when (ModuleTreeVerification.IsReadFailure(e))
        {
            return new ModuleSignatureCheck(shown, SignatureVerdict.Invalid, $"the module cannot be decompressed: {e.Message}", null, null);
        }
    }

    /// <summary>Equal bytes, or equal once both are decompressed (an initramfs builder may recompress); null when the installed file cannot be read.</summary>
    private static bool? SameBytes(InitramfsModule module, string installedPath, SystemRoot root)
    {
        try
        {
            var installed = SafeFile.ReadAll(installedPath, FileLimits.ModuleFile, root);
            if (module.Data.Span.SequenceEqual(installed))
                return true;
            return Plain(module.Data.Span, "initramfs copy").AsSpan().SequenceEqual(Plain(installed, installedPath));
        }
        catch (Exception e) when (ModuleTreeVerification.IsReadFailure(e))
        {
            return null;
        }
    }

    private static byte[] Plain(ReadOnlySpan<byte> bytes, string path)
    {
        var kind = ModuleDecompressor.Detect(bytes);
        return kind == ModuleCompression.None ? bytes.ToArray() : ModuleDecompressor.Decompress(bytes, kind, path, FileLimits.DecompressedModule.MaxBytes);
    }

    private static IEnumerable<AuditFinding> ModuleFindings(InitramfsModuleState s, string where, string imagePath, bool treeInstalled)
    {
        var m = s.Module;
        string[] evidence = [$"{imagePath}: {m.ArchivePath} ({m.Data.Length:N0} bytes)", $"signature: {s.Signature.Verdict}: {s.Signature.Reason}",
            s.InstalledPath is { } p ? $"installed file: {p}" : $"installed file: none for kernel {m.KernelVersion}"];
        if (s.InstalledPath is null)
            yield return new AuditFinding(AuditSeverity.High, AuditCheck.Initramfs, m.Name,
                treeInstalled
                    ? $"{where} carries {m.Name} for kernel {m.KernelVersion}, which has no such module installed: it loads at boot from the initramfs alone."
                    : $"{where} carries {m.Name} for kernel {m.KernelVersion}, which is not installed.",
                evidence, [AttackTechnique.KernelModules],
                $"Find out what put it there (/etc/initramfs-tools/hooks, /usr/share/initramfs-tools/hooks, conf.d), remove that, and rebuild the initramfs (update-initramfs -u -k {m.KernelVersion}).");
        else if (s.SameAsInstalled == false)
            yield return new AuditFinding(AuditSeverity.High, AuditCheck.Initramfs, m.Name,
                $"{where} carries a copy of {m.Name} that differs from the installed file {s.InstalledPath}: the initramfs or the file was changed after it was built.",
                evidence, [AttackTechnique.KernelModules],
                $"Verify the installed file (Test-KernelModule -Installed, dpkg --verify) and rebuild the initramfs from it (update-initramfs -u -k {m.KernelVersion}).");
        if (s.DisabledBySystem is not null && !s.DisabledInInitramfs)
            yield return new AuditFinding(AuditSeverity.Medium, AuditCheck.Initramfs, m.Name,
                $"{m.Name} is disabled or blacklisted by {s.DisabledBySystem}, but {where} carries it without that setting: it can still load at boot, before /etc/modprobe.d is read.",
                [.. evidence, $"disabled by: {s.DisabledBySystem}"], [AttackTechnique.KernelModules],
                $"Rebuild the initramfs so it takes the setting (update-initramfs -u -k {m.KernelVersion}), or leave the module out of it.");
        if (IntegrityFindings.From(s.Signature, m.KernelVersion, where) is { } signature)
            yield return signature;
    }

    private static AuditFinding Summary(InitramfsImage image, string kernelVersion, List<InitramfsModuleState> states)
    {
        string[] evidence =
        [
            .. image.Segments.Select(s => $"archive: {s}"),
            .. image.ModprobeFiles.Select(f => $"modprobe.d: {f.ArchivePath}"),
            .. image.ModulesLoadFiles.Select(f => $"loads at boot: {f.ArchivePath}: {string.Join(' ', ModuleList(f.Text))}"),
        ];
        return new AuditFinding(AuditSeverity.Informational, AuditCheck.Initramfs, AuditFinding.KernelSubject,
            $"initramfs {image.Path} of kernel {kernelVersion}: {image.Segments.Count} archives, {image.Entries.Count:N0} entries, {states.Count} modules checked ({IntegrityFindings.Counts(states.Select(s => s.Signature))}), {image.ModprobeFiles.Count} modprobe.d files, {image.ModulesLoadFiles.Count} boot module lists.",
            evidence, [], null);
    }

    /// <summary>Module names in a modules-load.d style list (comments and blank lines dropped).</summary>
    internal static IEnumerable<string> ModuleList(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] is not ('#' or ';')).Select(l => l.Split(' ', '\t')[0]);

    /// <summary>
    /// The installed kernels whose initramfs carries <paramref name="module"/> and does not itself
    /// disable it: where disabling the module in /etc/modprobe.d does not reach the next boot.
    /// Unreadable initramfs files are left out (the audit reports them).
    /// </summary>
    public static IReadOnlyList<string> KernelsStillCarrying(SystemRoot root, string module) => new InitramfsCarriers(root).KernelsStillCarrying(module);
}
