using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell.Engine.Integrity;

/// <summary>
/// Verifies a module's appended signature as the kernel does before it loads the module
/// (kernel/module/signing.c, crypto/asymmetric_keys/pkcs7_verify.c and pkcs7_trust.c), with .NET's
/// SignedCms doing the cryptography:
/// the file must end with "~Module signature appended~\n" after a 12-byte struct module_signature
/// whose id type is PKCS#7 and whose other fields are zero; the signed content is every byte
/// before the PKCS#7 blob; the message's content type must be id-data and no signer may carry
/// authenticated attributes; each signer's key is looked up by issuer and serial number or by
/// subject key identifier among the trusted certificates, and its signature must verify.
/// A compressed module (.ko.xz, .ko.zst, .ko.gz) is checked after decompression: the kernel
/// decompresses it first (finit_module's MODULE_INIT_COMPRESSED_FILE, or kmod in user space), and
/// the signature lies inside.
/// </summary>
public static class ModuleSignatureVerifier
{
    private const int InfoLength = 12; // struct module_signature
    private const int IdTypePkcs7 = 2;
    private const string DataOid = "1.2.840.113549.1.7.1";

    // The digests .NET verifies and a kernel may use for modules (CONFIG_MODULE_SIG_SHA*).
    private static readonly Dictionary<string, string> Digests = new()
    {
        ["1.3.14.3.2.26"] = "sha1",
        ["2.16.840.1.101.3.4.2.4"] = "sha224",
        ["2.16.840.1.101.3.4.2.1"] = "sha256",
        ["2.16.840.1.101.3.4.2.2"] = "sha384",
        ["2.16.840.1.101.3.4.2.3"] = "sha512",
        ["2.16.840.1.101.3.4.2.8"] = "sha3-256",
        ["2.16.840.1.101.3.4.2.9"] = "sha3-384",
        ["2.16.840.1.101.3.4.2.10"] = "sha3-512",
    };

    /// <summary>
    /// Reads a module file (inside <paramref name="within"/> when given) and verifies it. Reading
    /// errors are thrown (<see cref="IOException"/>, <see cref="FileRefusedException"/>,
    /// <see cref="ModuleFormatException"/> for a file that will not decompress); everything about
    /// the signature itself is a verdict.
    /// </summary>
    public static ModuleSignatureCheck VerifyFile(string path, KernelKeyring keyring, SystemRoot? within = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(keyring);
        var fullPath = ModuleFileReader.PathShown(path, within);
        return Verify(ModuleFileReader.ReadImage(fullPath, within), fullPath, keyring);
    }

    /// <summary>Verifies a module already in memory, decompressed.</summary>
    public static ModuleSignatureCheck Verify(ReadOnlySpan<byte> module, string path, KernelKeyring keyring)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(keyring);
        var magic = ModuleSignature.Magic;
        if (module.Length <= magic.Length || !module.EndsWith(magic))
            return new(path, SignatureVerdict.Unsigned, "the file has no module signature (no \"~Module signature appended~\" trailer)", null, null);
        var signed = module[..^magic.Length];
        if (signed.Length <= InfoLength)
            return Invalid(path, "the signature block is shorter than its 12-byte header (the kernel answers EBADMSG)");
        var info = signed[^InfoLength..];
        int algo = info[0], hash = info[1], idType = info[2], signerLength = info[3], keyIdLength = info[4];
        long sigLength = BinaryPrimitives.ReadUInt32BigEndian(info[8..]);
        if (idType != IdTypePkcs7)
            return new(path, SignatureVerdict.Unsupported,
                $"the signature is not a PKCS#7 message (id type {idType}; kernels since 4.3 verify only PKCS#7, and answer ENOPKG)", null, null);
        if (algo != 0 || hash != 0 || signerLength != 0 || keyIdLength != 0)
            return Invalid(path, $"the signature header's algo, hash, signer and key id fields must be zero with PKCS#7 (found {algo}, {hash}, {signerLength}, {keyIdLength}; the kernel answers EBADMSG)");
        if (sigLength == 0 || sigLength > signed.Length - InfoLength)
            return Invalid(path, $"the signature claims {sigLength:N0} bytes, but {signed.Length - InfoLength:N0} precede its header (the kernel answers EBADMSG)");
        var contentLength = signed.Length - InfoLength - (int)sigLength;
        return VerifyMessage(module[..contentLength], signed.Slice(contentLength, (int)sigLength), path, keyring);
    }

    private static ModuleSignatureCheck VerifyMessage(ReadOnlySpan<byte> content, ReadOnlySpan<byte> message, string path, KernelKeyring keyring)
    {
        var cms = new SignedCms(new ContentInfo(content.ToArray()), detached: true);
        try
        {
            cms.Decode(message);
        }
        catch (CryptographicException e)
        {
            return Invalid(path, $"the signature is not a valid PKCS#7 message ({e.Message.TrimEnd('.')}; the kernel answers EBADMSG)");
        }
        if (cms.ContentInfo.ContentType.Value != DataOid)
            return Invalid(path, $"the signed content is of type {cms.ContentInfo.ContentType.Value}, not data (the kernel rejects it: EKEYREJECTED)");
        if (cms.SignerInfos.Count == 0)
            return new(path, SignatureVerdict.Unsupported, "the PKCS#7 message has no signer", null, null);
        foreach (var signer in cms.SignerInfos)
            if (signer.SignedAttributes.Count > 0)
                return Invalid(path, "the signature carries authenticated attributes, which the kernel refuses on modules (EKEYREJECTED); sign with sign-file or openssl cms -noattr", SignerId(signer));

        // The kernel's order (pkcs7_validate_trust): a signer whose key is known but whose signature
        // fails rejects the module at once; one that verifies makes it valid; the rest are unknown
        // keys or unsupported algorithms.
        ModuleSignatureCheck? valid = null, unsupported = null, unknown = null;
        foreach (var signer in cms.SignerInfos)
        {
            var id = SignerId(signer);
            if (!Digests.TryGetValue(signer.DigestAlgorithm.Value ?? "", out var digest))
            {
                unsupported ??= new(path, SignatureVerdict.Unsupported, $"the signature uses digest {signer.DigestAlgorithm.FriendlyName ?? signer.DigestAlgorithm.Value}, which this check does not verify (the kernel answers ENOPKG without it)", null, id);
                continue;
            }
            var certificate = keyring.Find(signer.SignerIdentifier);
            if (certificate is null)
            {
                unknown ??= new(path, SignatureVerdict.UnknownKey,
                    $"signed by {id}, but no given certificate holds that key ({Describe(keyring)}; the kernel answers ENOKEY)"
                    + (cms.Certificates.Count > 0 ? $"; the message carries {cms.Certificates.Count} certificate(s), whose chains are not followed" : ""), null, id);
                continue;
            }
            if (KeyAlgorithm(certificate.Certificate) is null)
            {
                unsupported ??= new(path, SignatureVerdict.Unsupported, $"the key of {certificate.Subject} is {certificate.Certificate.PublicKey.Oid.FriendlyName ?? certificate.Certificate.PublicKey.Oid.Value}, which this check does not verify", certificate, id);
                continue;
            }
            try
            {
                signer.CheckSignature(new X509Certificate2Collection(certificate.Certificate), verifySignatureOnly: true);
            }
            catch (CryptographicException e)
            {
                return Invalid(path, $"the {digest} signature by {certificate.Subject} does not match the module's bytes: the module or its signature was changed after signing (the kernel rejects it: EKEYREJECTED; {e.Message.TrimEnd('.')})", id);
            }
            valid ??= new(path, SignatureVerdict.Valid, $"{digest} signature by {certificate.Subject} (serial {certificate.SerialNumber}) verified with the certificate from {certificate.Source}", certificate, id);
        }
        return valid ?? unsupported ?? unknown!;
    }

    private static string? KeyAlgorithm(X509Certificate2 certificate) => certificate.PublicKey.Oid.Value switch
    {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.10045.2.1" => "ECDSA",
        _ => null,
    };

    /// <summary>How the signer names its key: "serial 5E:E1:..., issuer CN=..." or "subject key id 35EC...".</summary>
    private static string SignerId(SignerInfo signer) => signer.SignerIdentifier.Type switch
    {
        SubjectIdentifierType.IssuerAndSerialNumber when signer.SignerIdentifier.Value is X509IssuerSerial s =>
            $"key {string.Join(':', Convert.FromHexString(s.SerialNumber.Length % 2 == 0 ? s.SerialNumber : "0" + s.SerialNumber).Select(b => b.ToString("X2")))} issued by {s.IssuerName}",
        SubjectIdentifierType.SubjectKeyIdentifier => $"subject key id {signer.SignerIdentifier.Value}",
        _ => "an unnamed signer",
    };

    private static string Describe(KernelKeyring keyring) => keyring.Certificates.Count switch
    {
        0 => "no certificate was given",
        1 => $"1 certificate: {keyring.Certificates[0].Subject}, serial {keyring.Certificates[0].SerialNumber}",
        var n => $"{n} certificates",
    };

    private static ModuleSignatureCheck Invalid(string path, string reason, string? signer = null) =>
        new(path, SignatureVerdict.Invalid, reason, null, signer);
}
