namespace LkmPowerShell.Engine.Integrity;

/// <summary>
/// The verdict on one module file's signature, with the reason in words and, when Valid, the
/// certificate that verified it.
/// </summary>
/// <param name="Path">The module file.</param>
/// <param name="Verdict">What the check found.</param>
/// <param name="Reason">Why, in one sentence (names the kernel's error where the kernel would fail the load).</param>
/// <param name="Certificate">The certificate that verified it (Valid only).</param>
/// <param name="SignerKeyId">The signer as the signature names it: the certificate serial (issuer and serial) or the subject key id; null when unsigned.</param>
public sealed record ModuleSignatureCheck(
    string Path,
    SignatureVerdict Verdict,
    string Reason,
    TrustedCertificate? Certificate,
    string? SignerKeyId)
{
    /// <summary>Invalid or UnknownKey: what an audit reports (Unsigned and Unsupported are the kernel's taint E, reported by the taint checks).</summary>
    public bool IsFinding => Verdict is SignatureVerdict.Invalid or SignatureVerdict.UnknownKey;

    public override string ToString() => $"{Verdict}: {Path}: {Reason}";
}
