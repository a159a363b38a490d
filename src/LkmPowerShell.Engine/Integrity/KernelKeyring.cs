using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using LkmPowerShell.Engine.Files;

namespace LkmPowerShell.Engine.Integrity;

/// <summary>
/// The certificates module signatures are checked against: the kernel image's built-in ones
/// (what the kernel's .builtin_trusted_keys holds at boot), and any the user adds (a MOK or a
/// vendor key, which the kernel has in its secondary or platform keyring).
/// A signer is found as the kernel finds it (pkcs7_validate_trust): by the issuer and serial
/// number the signature names, or by its subject key identifier.
/// </summary>
public sealed class KernelKeyring
{
    /// <summary>A kernel image is refused past this (Debian's are 8-12 MB).</summary>
    public static readonly FileLimit KernelImage = new("a kernel image", 256L << 20);

    /// <summary>A certificate file (PEM or DER) given by the user.</summary>
    public static readonly FileLimit CertificateFile = new("a certificate file", 4L << 20);

    public KernelKeyring(IEnumerable<TrustedCertificate> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        Certificates = [.. certificates.DistinctBy(c => c.Certificate.Thumbprint)];
    }

    public IReadOnlyList<TrustedCertificate> Certificates { get; }

    /// <summary>This keyring with more certificates (the user's).</summary>
    public KernelKeyring With(IEnumerable<TrustedCertificate> more) => new(Certificates.Concat(more));

    /// <summary>/boot/vmlinuz-<paramref name="kernelVersion"/> under the root, its built-in certificates.</summary>
    /// <exception cref="FileNotFoundException">No such image.</exception>
    /// <exception cref="ModuleFormatException">An image that cannot be decompressed or holds no certificate.</exception>
    public static KernelKeyring FromKernelImage(SystemRoot root, string kernelVersion)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentException.ThrowIfNullOrEmpty(kernelVersion);
        if (kernelVersion.Contains('/') || kernelVersion is "." or "..")
            throw new ArgumentException($"'{kernelVersion}' is not a kernel version.", nameof(kernelVersion));
        var path = ImagePath(root, kernelVersion);
        return FromKernelImage(path, root);
    }

    /// <summary>The kernel image's path under the root.</summary>
    public static string ImagePath(SystemRoot root, string kernelVersion) => root.Resolve("/boot/vmlinuz-" + kernelVersion);

    /// <summary>A kernel image file (read inside <paramref name="within"/> when given).</summary>
    public static KernelKeyring FromKernelImage(string path, SystemRoot? within = null)
    {
        var bytes = SafeFile.ReadAll(path, KernelImage, within);
        var last = s_lastImage;
        IReadOnlyList<X509Certificate2> certificates;
        if (last is not null && last.Image.AsSpan().SequenceEqual(bytes))
        {
            certificates = last.Certificates;
        }
        else
        {
            certificates = KernelImageCertificates.Read(bytes, path);
            if (certificates.Count == 0)
                throw new ModuleFormatException(path, -1, "the kernel image holds no X.509 certificate, so no module signature can be checked against it (a kernel built without CONFIG_MODULE_SIG, or one this reader does not understand)");
            s_lastImage = new ImageCertificates(bytes, certificates);
        }
        return new KernelKeyring(certificates.Select(c => new TrustedCertificate(c, $"{path} (built in)")));
    }

    /// <summary>
    /// The last image read and its certificates. A session checks signatures again and again
    /// against one kernel's image, and decompressing it is nearly all of the cost: Debian's 6.1
    /// image is xz, and a check took 13.7 s the first time and 0.1 s after it in the kernel bench's
    /// emulated 6.1 guest (docs/performance.md). Reused only for the same bytes,
    /// compared in full: never by name, size or time, which a replaced image can keep.
    /// One image is kept (Debian's are 8-12 MB); another image read takes its place.
    /// </summary>
    private static volatile ImageCertificates? s_lastImage;

    private sealed record ImageCertificates(byte[] Image, IReadOnlyList<X509Certificate2> Certificates);

    /// <summary>Certificates from a file: PEM (one or more) or DER.</summary>
    public static IReadOnlyList<TrustedCertificate> ReadCertificateFile(string path)
    {
        var bytes = SafeFile.ReadAll(path, CertificateFile);
        try
        {
            var collection = new X509Certificate2Collection();
            if (bytes.AsSpan().IndexOf("-----BEGIN CERTIFICATE-----"u8) >= 0)
                collection.ImportFromPem(System.Text.Encoding.ASCII.GetString(bytes));
            else
                collection.Add(X509CertificateLoader.LoadCertificate(bytes));
            if (collection.Count == 0)
                throw new ModuleFormatException(path, -1, "the file holds no certificate");
            return [.. collection.Select(c => new TrustedCertificate(c, path))];
        }
        catch (CryptographicException e)
        {
            throw new ModuleFormatException(path, -1, $"not an X.509 certificate in PEM or DER ({e.Message.TrimEnd('.')})", e);
        }
    }

    /// <summary>The certificate a signer names, or null.</summary>
    public TrustedCertificate? Find(SubjectIdentifier signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        switch (signer.Type)
        {
            case SubjectIdentifierType.IssuerAndSerialNumber:
                var id = (X509IssuerSerial)signer.Value!;
                return Certificates.FirstOrDefault(c =>
                    string.Equals(c.Certificate.SerialNumber, id.SerialNumber, StringComparison.OrdinalIgnoreCase)
                    && c.Certificate.IssuerName.Name == id.IssuerName);
            case SubjectIdentifierType.SubjectKeyIdentifier:
                var skid = (string)signer.Value!;
                return Certificates.FirstOrDefault(c => string.Equals(c.SubjectKeyId, skid, StringComparison.OrdinalIgnoreCase));
            default:
                return null;
        }
    }
}
