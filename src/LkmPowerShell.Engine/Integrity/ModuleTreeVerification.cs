using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Integrity;

/// <summary>
/// Every installed module of a kernel verified against that kernel's image certificates (and the
/// user's): one call for a whole /lib/modules/&lt;version&gt;, a hash per file, on several threads.
/// </summary>
/// <param name="KernelVersion">The tree's kernel.</param>
/// <param name="Keyring">The certificates used; null when the kernel image could not be read and no certificate was given.</param>
/// <param name="KeyringProblem">Why the image's certificates are missing, when they are.</param>
/// <param name="Checks">One verdict per module file that could be read, in the tree's order.</param>
/// <param name="Failures">Files that could not be read (path, error).</param>
public sealed record ModuleTreeVerification(
    string KernelVersion,
    KernelKeyring Keyring,
    string? KeyringProblem,
    IReadOnlyList<ModuleSignatureCheck> Checks,
    IReadOnlyList<(string Path, Exception Error)> Failures)
{
    /// <summary>Verifies the installed modules of <paramref name="tree"/> whose names <paramref name="select"/> accepts
    /// (all when null), on <paramref name="threads"/> threads, with <paramref name="extra"/> (the user's MOK or vendor
    /// certificates) besides the image's.</summary>
    public static ModuleTreeVerification Run(ModuleDirectory tree, IEnumerable<TrustedCertificate>? extra = null,
        Func<string, bool>? select = null, int threads = 2)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var (keyring, problem) = LoadKeyring(tree.Root, tree.KernelVersion, extra);
        var modules = tree.Modules().Where(m => select?.Invoke(m.Name) ?? true).ToArray();
        var results = OrderedParallel.Map(modules, m => Verify(m, keyring, tree.Root), Math.Max(1, threads)).ToArray();
        var checks = new List<ModuleSignatureCheck>(results.Length);
        var failures = new List<(string, Exception)>();
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].Check is { } c) checks.Add(c);
            else failures.Add((modules[i].Path, results[i].Error!));
        }
        return new ModuleTreeVerification(tree.KernelVersion, keyring, problem, checks, failures);
    }

    /// <summary>The image's certificates plus the user's; when the image cannot be read, the user's alone and the reason.</summary>
    public static (KernelKeyring Keyring, string? Problem) LoadKeyring(SystemRoot root, string kernelVersion, IEnumerable<TrustedCertificate>? extra)
    {
        var given = extra?.ToArray() ?? [];
        try
        {
            return (KernelKeyring.FromKernelImage(root, kernelVersion).With(given), null);
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            return (new KernelKeyring(given), e.Message);
        }
    }

    private static (ModuleSignatureCheck? Check, Exception? Error) Verify(InstalledModule module, KernelKeyring keyring, SystemRoot root)
    {
        try
        {
            return (ModuleSignatureVerifier.VerifyFile(module.Path, keyring, root), null);
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            return (null, e);
        }
    }

    /// <summary>What reading a module file or kernel image may throw for a bad file (never a bug).</summary>
    public static bool IsReadFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or ModuleFormatException or ModuleFiles.NativeLibraryMissingException or ArgumentException;
}
