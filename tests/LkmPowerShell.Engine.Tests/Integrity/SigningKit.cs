using System.Buffers.Binary;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.Tests.ModuleFiles;

namespace LkmPowerShell.Engine.Tests.Integrity;

/// <summary>
/// A signing key of the test's own (openssl req -x509 in a temporary folder) and the module
/// layouts made from it: what Debian's scripts/sign-file writes, built with openssl cms -sign
/// (-noattr -nocerts -binary, as sign-file calls CMS_sign), so that a foreign-key module can be
/// made without linux-kbuild. The folder is deleted with the kit.
/// </summary>
internal sealed class SigningKit : IDisposable
{
    public SigningKit(string algorithm = "rsa:2048")
    {
        Folder = Directory.CreateTempSubdirectory("lkm-signing-").FullName;
        KeyPath = Path.Combine(Folder, "key.pem");
        CertificatePath = Path.Combine(Folder, "cert.pem");
        var keyArgs = algorithm.StartsWith("ec:", StringComparison.Ordinal)
            ? new[] { "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:" + algorithm[3..] }
            : ["-newkey", algorithm];
        CodecTools.Run("openssl", ["req", "-x509", .. keyArgs, "-nodes", "-days", "3650", "-subj", "/CN=LkmPowerShell test signing key",
            "-addext", "keyUsage=digitalSignature", "-addext", "subjectKeyIdentifier=hash",
            "-keyout", KeyPath, "-out", CertificatePath]);
        CertificateDerPath = Path.Combine(Folder, "cert.der");
        CodecTools.Run("openssl", ["x509", "-in", CertificatePath, "-outform", "DER", "-out", CertificateDerPath]);
    }

    public string Folder { get; }
    public string KeyPath { get; }
    public string CertificatePath { get; }
    public string CertificateDerPath { get; }

    /// <summary>The module without its signature block (what was signed).</summary>
    public static byte[] Strip(byte[] module)
    {
        var sig = ModuleSignature.TryRead(module, "module") ?? throw new InvalidOperationException("not signed");
        return module[..(int)sig.PayloadLength];
    }

    /// <summary>A detached PKCS#7 signature of <paramref name="content"/> (DER), made by openssl cms.</summary>
    public byte[] SignDetached(byte[] content, bool signedAttributes = false, string digest = "sha256")
    {
        var body = Path.Combine(Folder, Guid.NewGuid().ToString("N") + ".body");
        var sig = body + ".p7s";
        File.WriteAllBytes(body, content);
        // sign-file adds no authenticated attributes (CMS_NOATTR); with them the kernel refuses the module.
        string[] attributes = signedAttributes ? [] : ["-noattr"];
        CodecTools.Run("openssl", ["cms", "-sign", "-binary", "-nocerts", .. attributes, "-outform", "DER", "-md", digest,
            "-signer", CertificatePath, "-inkey", KeyPath, "-in", body, "-out", sig]);
        var bytes = File.ReadAllBytes(sig);
        File.Delete(body);
        File.Delete(sig);
        return bytes;
    }

    /// <summary>content + PKCS#7 + struct module_signature + "~Module signature appended~\n", as sign-file lays it out.</summary>
    public static byte[] Append(byte[] content, byte[] pkcs7, byte idType = 2)
    {
        var info = new byte[12];
        info[2] = idType;
        BinaryPrimitives.WriteUInt32BigEndian(info.AsSpan(8), (uint)pkcs7.Length);
        return [.. content, .. pkcs7, .. info, .. ModuleSignature.Magic];
    }

    public byte[] Sign(byte[] unsignedModule, bool signedAttributes = false) => Append(unsignedModule, SignDetached(unsignedModule, signedAttributes));

    public void Dispose()
    {
        // Only the folder this kit made.
        Directory.Delete(Folder, recursive: true);
    }
}
