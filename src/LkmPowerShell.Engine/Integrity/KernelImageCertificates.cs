using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell.Engine.Integrity;

/// <summary>
/// The X.509 certificates built into a kernel image: the kernel's builtin trusted keys
/// (certs/system_certificates.S puts the module signing key, then CONFIG_SYSTEM_TRUSTED_KEYS, as
/// DER one after another in vmlinux's init data). A distribution's modules are signed with the key
/// made when the kernel was built, and only the image carries its certificate.
/// The image is an x86 bzImage (its setup header locates the compressed vmlinux, gzip, xz or zstd,
/// decompressed in memory and bounded), a whole-file gzip/xz/zstd image, or an uncompressed one.
/// vmlinux is stripped, so the list's symbols are gone: the certificates are found by their DER
/// shape (a v3 certificate begins 30 82 LL LL 30 82 LL LL A0 03 02 01 02) and kept when .NET parses them.
/// </summary>
internal static class KernelImageCertificates
{
    /// <summary>A decompressed kernel is refused past this (Debian's vmlinux is about 66 MB).</summary>
    public const long MaxDecompressedBytes = 512L << 20;

    /// <summary>The certificates in an image already in memory; <paramref name="path"/> names it in errors.</summary>
    /// <exception cref="ModuleFormatException">A bzImage whose header or payload is damaged, or a compression not read here.</exception>
    public static IReadOnlyList<X509Certificate2> Read(ReadOnlySpan<byte> image, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Scan(Decompressed(image, path));
    }

    /// <summary>The uncompressed kernel: the bzImage payload, or the whole file decompressed, or the file itself.</summary>
    internal static byte[] Decompressed(ReadOnlySpan<byte> image, string path)
    {
        if (BzImagePayload(image, path) is var (offset, length))
            return DecompressPayload(image.Slice(offset, length), path, offset);
        var whole = ModuleDecompressor.Detect(image);
        return whole == ModuleCompression.None ? image.ToArray() : ModuleDecompressor.Decompress(image, whole, path, MaxDecompressedBytes);
    }

    /// <summary>
    /// Where a bzImage keeps its compressed kernel (Documentation/arch/x86/boot.rst): "HdrS" at
    /// 0x202, boot protocol 2.08 or later at 0x206, setup_sects at 0x1F1 (0 meaning 4), and
    /// payload_offset/payload_length at 0x248/0x24C, counted from the protected-mode code that
    /// follows the (setup_sects + 1) sectors of setup. Null when the file is not a bzImage.
    /// </summary>
    private static (int Offset, int Length)? BzImagePayload(ReadOnlySpan<byte> image, string path)
    {
        if (image.Length < 0x250 || !image.Slice(0x202, 4).SequenceEqual("HdrS"u8))
            return null;
        var protocol = BinaryPrimitives.ReadUInt16LittleEndian(image[0x206..]);
        if (protocol < 0x0208)
            throw new ModuleFormatException(path, 0x206, $"the bzImage uses boot protocol {protocol >> 8}.{protocol & 0xFF:D2}, older than 2.08, which has no payload fields");
        var setupSectors = image[0x1F1] == 0 ? 4 : image[0x1F1];
        long start = (setupSectors + 1L) * 512 + BinaryPrimitives.ReadUInt32LittleEndian(image[0x248..]);
        long length = BinaryPrimitives.ReadUInt32LittleEndian(image[0x24C..]);
        if (length == 0 || start + length > image.Length)
            throw new ModuleFormatException(path, 0x248, $"the bzImage's payload ({length:N0} bytes at {start:N0}) lies outside the {image.Length:N0}-byte file");
        return ((int)start, (int)length);
    }

    private static byte[] DecompressPayload(ReadOnlySpan<byte> payload, string path, int offset)
    {
        var kind = ModuleDecompressor.Detect(payload);
        switch (kind)
        {
            case ModuleCompression.Gzip:
                return ModuleDecompressor.Decompress(payload, kind, path, MaxDecompressedBytes);
            case ModuleCompression.Xz:
            case ModuleCompression.Zstd:
                // The kernel's build appends the decompressed size (4 bytes, little-endian) after
                // an xz or zstd stream (scripts/Makefile.lib, size_append): not part of the stream.
                if (payload.Length <= 4)
                    throw new ModuleFormatException(path, offset, "the bzImage's payload is too short to hold a compressed kernel");
                return ModuleDecompressor.Decompress(payload[..^4], kind, path, MaxDecompressedBytes);
            default:
                var magic = Convert.ToHexString(payload[..Math.Min(4, payload.Length)]);
                throw new ModuleFormatException(path, offset,
                    $"the bzImage's kernel is compressed with a format this reader does not decompress (magic {magic}; gzip, xz and zstd are read)");
        }
    }

    /// <summary>Every distinct X.509 v3 certificate whose DER lies whole in <paramref name="data"/>.</summary>
    internal static IReadOnlyList<X509Certificate2> Scan(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> versionField = [0xA0, 0x03, 0x02, 0x01, 0x02];
        var found = new List<X509Certificate2>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var at = 0;
        while (at + 13 <= data.Length)
        {
            var next = data[at..].IndexOf((ReadOnlySpan<byte>)[0x30, 0x82]);
            if (next < 0)
                break;
            var i = at + next;
            at = i + 1;
            if (i + 13 > data.Length || data[i + 4] != 0x30 || data[i + 5] != 0x82 || !data.Slice(i + 8, 5).SequenceEqual(versionField))
                continue;
            var length = 4 + BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
            var inner = 4 + BinaryPrimitives.ReadUInt16BigEndian(data[(i + 6)..]);
            if (i + length > data.Length || inner >= length - 4)
                continue;
            try
            {
                var certificate = X509CertificateLoader.LoadCertificate(data.Slice(i, length));
                if (seen.Add(certificate.Thumbprint))
                    found.Add(certificate);
                at = i + length;
            }
            catch (CryptographicException)
            {
                // Bytes shaped like a certificate's start that are not one: keep looking.
            }
        }
        return found;
    }
}
