using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Integrity;

namespace LkmPowerShell;

/// <summary>
/// The cmdlet side of signature checks (Get-KernelModule -CheckSignature, Test-KernelModule
/// -Installed and -CheckSignature): the user's -Certificate files read once, each kernel's image
/// certificates read once per call, and one ErrorRecord for each that cannot be read.
/// </summary>
internal sealed class ModuleSignatures
{
    private readonly PSCmdlet _cmdlet;
    private readonly SystemRoot _root;
    private readonly Dictionary<string, KernelKeyring> _keyrings = new(StringComparer.Ordinal);

    public ModuleSignatures(PSCmdlet cmdlet, SystemRoot root, string[]? certificatePaths)
    {
        _cmdlet = cmdlet;
        _root = root;
        var given = new List<TrustedCertificate>();
        foreach (var path in certificatePaths ?? [])
        {
            var full = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            try
            {
                given.AddRange(KernelKeyring.ReadCertificateFile(full));
            }
            catch (Exception e) when (ModuleTreeVerification.IsReadFailure(e))
            {
                cmdlet.WriteError(new ErrorRecord(e, "CertificateUnreadable", e is FileNotFoundException ? ErrorCategory.ObjectNotFound : ErrorCategory.InvalidData, full)
                {
                    ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = ModuleErrors.Remedy("Integrity.CertificateUnreadable") },
                });
            }
        }
        Given = given;
    }

    /// <summary>The certificates the user gave that could be read.</summary>
    public IReadOnlyList<TrustedCertificate> Given { get; }

    /// <summary>A kernel's image certificates with the user's; when the image cannot be read, one error and the user's alone.</summary>
    public KernelKeyring For(string kernelVersion)
    {
        if (_keyrings.TryGetValue(kernelVersion, out var keyring))
            return keyring;
        var (loaded, problem) = ModuleTreeVerification.LoadKeyring(_root, kernelVersion, Given);
        if (problem is not null)
            _cmdlet.WriteError(new ErrorRecord(new InvalidDataException(problem), "KernelImageUnreadable", ErrorCategory.ReadError, KernelKeyring.ImagePath(_root, kernelVersion))
            {
                ErrorDetails = new ErrorDetails($"The certificates of kernel {kernelVersion} could not be read ({problem}); its modules are checked against {(Given.Count == 0 ? "no certificate, so every signed one is UnknownKey" : "the -Certificate files alone")}.")
                {
                    RecommendedAction = ModuleErrors.Remedy("Integrity.KernelImageUnreadable", kernelVersion),
                },
            });
        return _keyrings[kernelVersion] = loaded;
    }

    /// <summary>Verifies one module file, reading errors returned rather than thrown (the caller writes them in place).</summary>
    public static (ModuleSignatureCheck? Check, Exception? Error) Verify(string path, KernelKeyring keyring, SystemRoot? within)
    {
        try
        {
            return (ModuleSignatureVerifier.VerifyFile(path, keyring, within), null);
        }
        catch (Exception e) when (ModuleTreeVerification.IsReadFailure(e))
        {
            return (null, e);
        }
    }
}
