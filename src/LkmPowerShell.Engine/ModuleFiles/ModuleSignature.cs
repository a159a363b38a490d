using System.Buffers;
using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Text;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// The signature appended to a (decompressed) module file, with the values kmod's modinfo shows
/// as sig_id, signer, sig_key, sig_hashalgo and signature. The file's layout, from its end:
/// "~Module signature appended~\n", a 12-byte struct module_signature (algo, hash, id_type,
/// signer_len, key_id_len, 3 pad bytes, big-endian sig_len), then before it the signature data,
/// key id and signer name, and before those the signed module itself.
/// </summary>
public sealed class ModuleSignature
{
    /// <summary>The trailer that ends every signed module.</summary>
    public static ReadOnlySpan<byte> Magic => "~Module signature appended~\n"u8;

    private const int InfoLength = 12; // sizeof(struct module_signature)
    private const int IdTypePkcs7 = 2;

    // kmod 30's tables (libkmod-signature.c): index = the struct's byte; beyond them it is no signature.
    private static readonly string[] HashAlgorithms = ["md4", "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224", "sm3"];
    private static readonly string[] IdTypes = ["PGP", "X509", "PKCS#7"];
    private const int AlgorithmCount = 2; // DSA, RSA

    private ModuleSignature(string signatureId, string? signer, byte[] keyId, string hashAlgorithm, byte[] signature, long payloadLength)
    {
        SignatureId = signatureId;
        Signer = signer;
        KeyId = keyId;
        HashAlgorithm = hashAlgorithm;
        Signature = signature;
        PayloadLength = payloadLength;
    }

    /// <summary>modinfo's sig_id: "PKCS#7" (every module signed since Linux 4.3), "X509" or "PGP".</summary>
    public string SignatureId { get; }

    /// <summary>modinfo's signer: the issuer common name of the first signer; null when the issuer has no attributes.</summary>
    public string? Signer { get; }

    /// <summary>modinfo's sig_key: the signer certificate's serial number (big-endian, no leading zeros).</summary>
    public byte[] KeyId { get; }

    /// <summary>modinfo's sig_hashalgo, e.g. "sha256"; the dotted OID for a digest kmod has no name for.</summary>
    public string HashAlgorithm { get; }

    /// <summary>modinfo's signature: the raw signature bytes (PKCS#1 RSA or DER ECDSA).</summary>
    public byte[] Signature { get; }

    /// <summary>The length of the signed module: the file without the signature block and trailer. The ELF lies within it.</summary>
    public long PayloadLength { get; }

    /// <summary>sig_key as modinfo prints it: "15:FD:60:...".</summary>
    public string FormatKeyId() => FormatHex(KeyId);

    /// <summary>signature as modinfo (and modinfo -F signature) prints it, line breaks included.</summary>
    public string FormatSignature() => FormatHex(Signature);

    /// <summary>
    /// kmod's hex rendering (kmod_module_hex_to_str): upper-case byte pairs joined by ':', and after
    /// every 20th byte that is not the last, a line break and two tabs ("\n\t\t"), which is how
    /// modinfo lines up long signatures under its 16-column labels. Empty for no bytes.
    /// </summary>
    public static string FormatHex(ReadOnlySpan<byte> bytes)
    {
        const int lineLimit = 20;
        var text = new StringBuilder(bytes.Length * 3 + bytes.Length / lineLimit * 3);
        for (var i = 0; i < bytes.Length; i++)
        {
            text.Append(bytes[i].ToString("X2"));
            if (i < bytes.Length - 1)
            {
                text.Append(':');
                if ((i + 1) % lineLimit == 0)
                    text.Append("\n\t\t");
            }
        }
        return text.ToString();
    }

    /// <summary>True when the bytes end with the signature trailer (nothing else is checked).</summary>
    public static bool HasTrailer(ReadOnlySpan<byte> fileBytes) => fileBytes.EndsWith(Magic);

    /// <summary>
    /// The length of the signed module within a file: the whole file when it has no trailer, else
    /// the file without the signature block. Checks the block's sizes but not the PKCS#7 inside.
    /// </summary>
    public static long GetPayloadLength(ReadOnlySpan<byte> fileBytes, string path) =>
        HasTrailer(fileBytes) ? ReadInfo(fileBytes, fileBytes.Length, path).PayloadLength : fileBytes.Length;

    /// <summary>
    /// The signature of a whole (decompressed) module file; null when it has no trailer.
    /// A trailer whose block is inconsistent (sizes beyond the file, unknown algorithm numbers,
    /// malformed PKCS#7) is a <see cref="ModuleFormatException"/>; kmod 30 would silently show no
    /// signature, but a damaged signature on a module is worth saying.
    /// </summary>
    public static ModuleSignature? TryRead(ReadOnlySpan<byte> fileBytes, string path) => TryRead(fileBytes, fileBytes.Length, path);

    /// <summary>
    /// How many bytes at the end of a file of <paramref name="fileLength"/> bytes hold its
    /// signature block and trailer (0 when it has no trailer), judged from <paramref name="tail"/>,
    /// the file's last bytes (at least 40 of them, or the whole file). A reader that does not hold
    /// the whole file reads that many from the end and gives them to the other TryRead.
    /// </summary>
    public static long SignatureBlockLength(ReadOnlySpan<byte> tail, long fileLength, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return tail.EndsWith(Magic) ? fileLength - ReadInfo(tail, fileLength, path).PayloadLength : 0;
    }

    /// <summary>
    /// The same from the file's last bytes only: <paramref name="tail"/> ends where the file of
    /// <paramref name="fileLength"/> bytes ends and holds at least <see cref="SignatureBlockLength"/> bytes.
    /// </summary>
    public static ModuleSignature? TryRead(ReadOnlySpan<byte> tail, long fileLength, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!tail.EndsWith(Magic))
            return null;
        var info = ReadInfo(tail, fileLength, path);
        var tailStart = fileLength - tail.Length;
        if (info.PayloadLength < tailStart)
            throw new ArgumentException("the tail given does not hold the whole signature block", nameof(tail));
        var sigStart = (int)(info.InfoOffset - info.SigLength - tailStart);
        var sig = tail.Slice(sigStart, (int)info.SigLength);
        if (info.IdType != IdTypePkcs7)
        {
            // PGP and X509 (kernels before 4.3): the signer name and key id are stored raw.
            var keyIdStart = sigStart - info.KeyIdLength;
            var signerStart = keyIdStart - info.SignerLength;
            return new ModuleSignature(IdTypes[info.IdType],
                Encoding.UTF8.GetString(tail.Slice(signerStart, info.SignerLength)),
                tail.Slice(keyIdStart, info.KeyIdLength).ToArray(),
                HashAlgorithms[info.Hash], sig.ToArray(), info.PayloadLength);
        }
        // The parser wants memory, not a span: a pooled copy, which nothing it returns refers to
        // (its strings and byte arrays are its own).
        var der = ArrayPool<byte>.Shared.Rent(sig.Length);
        try
        {
            sig.CopyTo(der);
            var parsed = Pkcs7SignerInfo.Parse(der.AsMemory(0, sig.Length));
            return new ModuleSignature(IdTypes[IdTypePkcs7], parsed.Signer, parsed.KeyId, parsed.HashAlgorithm, parsed.Signature, info.PayloadLength);
        }
        catch (Exception e) when (e is AsnContentException or FormatException or ArgumentException or OverflowException)
        {
            // ArgumentException and OverflowException: System.Formats.Asn1 is documented to throw
            // AsnContentException for bad content, but hostile input must never escape as anything
            // but this file's format error.
            throw new ModuleFormatException(path, sigStart + tailStart, $"the module signature is not a valid PKCS#7 message: {e.Message.TrimEnd('.')}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(der);
        }
    }

    private readonly record struct Info(int IdType, int Hash, int SignerLength, int KeyIdLength, long SigLength, long InfoOffset, long PayloadLength);

    /// <summary>The struct module_signature before the trailer, from the file's last bytes (offsets are the file's).</summary>
    private static Info ReadInfo(ReadOnlySpan<byte> tail, long fileLength, string path)
    {
        long infoOffset = fileLength - Magic.Length - InfoLength;
        if (infoOffset < 0)
            throw new ModuleFormatException(path, 0, "the file ends with the module signature trailer but is too short to hold a signature");
        var s = tail.Slice((int)(infoOffset - (fileLength - tail.Length)), InfoLength);
        int algo = s[0], hash = s[1], idType = s[2], signerLen = s[3], keyIdLen = s[4];
        long sigLen = BinaryPrimitives.ReadUInt32BigEndian(s[8..]);
        if (algo >= AlgorithmCount || hash >= HashAlgorithms.Length || idType >= IdTypes.Length)
            throw new ModuleFormatException(path, infoOffset,
                $"the module signature names an unknown algorithm (algo {algo}, hash {hash}, id type {idType})");
        if (sigLen == 0)
            throw new ModuleFormatException(path, infoOffset, "the module signature is empty (sig_len 0)");
        var payload = infoOffset - signerLen - keyIdLen - sigLen;
        if (payload < 0)
            throw new ModuleFormatException(path, infoOffset,
                $"the module signature claims {signerLen + keyIdLen + sigLen:N0} bytes but only {infoOffset:N0} precede it");
        return new Info(idType, hash, signerLen, keyIdLen, sigLen, infoOffset, payload);
    }
}
