using System.Formats.Asn1;
using System.Text;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// Reads from a module's PKCS#7 SignedData exactly what kmod's modinfo shows: the first
/// SignerInfo's issuer common name, serial number, digest algorithm and signature bytes.
/// Why System.Formats.Asn1 and not System.Security.Cryptography.Pkcs (which would decode the whole
/// message): Pkcs is not in the shared framework, pwsh ships its own copy of it, and a binary
/// module loaded into pwsh's default load context that brings another version can clash with it.
/// System.Formats.Asn1 is part of the shared framework, so there is nothing to ship or to clash.
/// </summary>
internal readonly record struct Pkcs7SignerInfo(string? Signer, byte[] KeyId, string HashAlgorithm, byte[] Signature)
{
    private const string SignedDataOid = "1.2.840.113549.1.7.2";
    private const string CommonNameOid = "2.5.4.3";

    private static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0);
    private static readonly Asn1Tag Context1 = new(TagClass.ContextSpecific, 1);

    // The names kmod 30 gives the digest OIDs it knows (libkmod-signature.c, pkey_hash_algo).
    private static readonly Dictionary<string, string> HashNames = new()
    {
        ["1.2.840.113549.2.4"] = "md4",
        ["1.2.840.113549.2.5"] = "md5",
        ["1.3.14.3.2.26"] = "sha1",
        ["1.3.36.3.2.1"] = "rmd160",
        ["2.16.840.1.101.3.4.2.1"] = "sha256",
        ["2.16.840.1.101.3.4.2.2"] = "sha384",
        ["2.16.840.1.101.3.4.2.3"] = "sha512",
        ["2.16.840.1.101.3.4.2.4"] = "sha224",
        ["1.2.156.10197.1.401"] = "sm3",
    };

    /// <summary>
    /// Parses <paramref name="der"/> (BER accepted, as OpenSSL's d2i_PKCS7 does; bytes after the
    /// message are ignored, as there). Throws <see cref="AsnContentException"/> or
    /// <see cref="FormatException"/> on anything malformed; the caller names the file.
    /// </summary>
    public static Pkcs7SignerInfo Parse(ReadOnlyMemory<byte> der)
    {
        var contentInfo = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
        var type = contentInfo.ReadObjectIdentifier();
        if (type != SignedDataOid)
            throw new FormatException($"the PKCS#7 message is of type {type}, not SignedData");
        var signedData = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)).ReadSequence();
        signedData.ReadEncodedValue(); // version
        signedData.ReadEncodedValue(); // digestAlgorithms
        signedData.ReadEncodedValue(); // contentInfo (detached: no content)
        while (signedData.HasData && signedData.PeekTag() is var t && t.TagClass == TagClass.ContextSpecific && t.TagValue is 0 or 1)
            signedData.ReadEncodedValue(); // certificates [0], crls [1]
        var signerInfos = signedData.ReadSetOf(skipSortOrderValidation: true);
        if (!signerInfos.HasData)
            throw new FormatException("the PKCS#7 message has no SignerInfo");
        var signerInfo = signerInfos.ReadSequence();
        signerInfo.ReadEncodedValue(); // version

        string? signer = null;
        byte[] keyId;
        if (signerInfo.PeekTag().HasSameClassAndValue(Context0))
        {
            // CMS subjectKeyIdentifier (sign-file -k): no issuer, the key id is the SKID itself.
            // kmod 30 (OpenSSL's PKCS7 parser) shows no signature at all for these.
            keyId = signerInfo.ReadOctetString(Context0);
        }
        else
        {
            var issuerAndSerial = signerInfo.ReadSequence();
            signer = IssuerCommonName(issuerAndSerial.ReadSequence());
            keyId = Magnitude(issuerAndSerial.ReadIntegerBytes().Span);
        }

        var digestAlgorithm = signerInfo.ReadSequence().ReadObjectIdentifier();
        if (signerInfo.HasData && signerInfo.PeekTag().HasSameClassAndValue(Context0))
            signerInfo.ReadEncodedValue(); // authenticatedAttributes
        signerInfo.ReadEncodedValue(); // digestEncryptionAlgorithm
        var signature = signerInfo.ReadOctetString();

        // kmod indexes its table with an unknown OID's -1 (undefined behaviour); the OID says more.
        var hash = HashNames.GetValueOrDefault(digestAlgorithm, digestAlgorithm);
        return new Pkcs7SignerInfo(signer, keyId, hash, signature);
    }

    /// <summary>
    /// The issuer's first commonName, as kmod's x509_name_to_str picks it. Its quirk is kept: with
    /// no commonName it returns the last attribute's value; with no attributes, nothing.
    /// </summary>
    private static string? IssuerCommonName(AsnReader name)
    {
        ReadOnlyMemory<byte>? last = null;
        while (name.HasData)
        {
            var rdn = name.ReadSetOf(skipSortOrderValidation: true);
            while (rdn.HasData)
            {
                var attribute = rdn.ReadSequence();
                var oid = attribute.ReadObjectIdentifier();
                last = attribute.ReadEncodedValue();
                if (oid == CommonNameOid)
                    return StringValue(last.Value);
            }
        }
        return last is { } value ? StringValue(value) : null;
    }

    /// <summary>
    /// A directory string's raw content bytes up to the first NUL (kmod prints them with %s),
    /// read as UTF-8, which is what PrintableString, IA5String and UTF8String all are.
    /// </summary>
    private static string StringValue(ReadOnlyMemory<byte> encoded)
    {
        var tag = AsnDecoder.ReadEncodedValue(encoded.Span, AsnEncodingRules.BER, out var offset, out var length, out _);
        if (tag.IsConstructed)
            throw new FormatException("the issuer name holds a constructed string");
        var bytes = encoded.Span.Slice(offset, length);
        var nul = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? bytes[..nul] : bytes);
    }

    /// <summary>
    /// The serial number as kmod shows it: OpenSSL's BN_bn2bin of the INTEGER, i.e. the big-endian
    /// magnitude without leading zero bytes (the sign is dropped; zero has no bytes).
    /// </summary>
    private static byte[] Magnitude(ReadOnlySpan<byte> twosComplement)
    {
        byte[] magnitude = twosComplement.ToArray();
        if (magnitude.Length > 0 && (magnitude[0] & 0x80) != 0)
        {
            // Negate: invert and add one.
            var carry = 1;
            for (var i = magnitude.Length - 1; i >= 0; i--)
            {
                var v = (byte)~magnitude[i] + carry;
                magnitude[i] = (byte)v;
                carry = v >> 8;
            }
        }
        var start = 0;
        while (start < magnitude.Length && magnitude[start] == 0)
            start++;
        return magnitude[start..];
    }
}
