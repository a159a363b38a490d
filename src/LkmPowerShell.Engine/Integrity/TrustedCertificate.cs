using System.Security.Cryptography.X509Certificates;

namespace LkmPowerShell.Engine.Integrity;

/// <summary>A certificate a module may be signed with, and where it came from (a kernel image, a file the user gave).</summary>
public sealed class TrustedCertificate
{
    public TrustedCertificate(X509Certificate2 certificate, string source)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(source);
        Certificate = certificate;
        Source = source;
        SubjectKeyId = certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifier;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>The file it was read from: "/boot/vmlinuz-6.1.0-57-amd64 (built in)", or a certificate file.</summary>
    public string Source { get; }

    /// <summary>The subject key identifier in upper-case hex, null when the certificate has none.</summary>
    public string? SubjectKeyId { get; }

    public string Subject => Certificate.Subject;

    /// <summary>The serial number as modinfo shows sig_key: upper-case hex pairs joined by ':'.</summary>
    public string SerialNumber => string.Join(':', Convert.FromHexString(Certificate.SerialNumber).Select(b => b.ToString("X2")));

    public override string ToString() => $"{Subject} (serial {SerialNumber}) from {Source}";
}
