using LkmPowerShell.Engine.Integrity;
using LkmPowerShell.Engine.Tests.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Integrity;

/// <summary>Kernel images that are damaged, hostile or of another shape: a clear error or the certificates, never more.</summary>
public sealed class KernelImageCertificatesTests
{
    [Fact]
    public void A_certificate_among_other_bytes_is_found_once()
    {
        using var kit = new SigningKit("ec:prime256v1");
        var der = File.ReadAllBytes(kit.CertificateDerPath);
        var junk = new byte[5000];
        new Random(1).NextBytes(junk);
        // A false start (the shape's first bytes without a certificate), then the certificate twice.
        byte[] image = [.. junk, 0x30, 0x82, 0x01, 0x00, 0x30, 0x82, 0x00, 0x10, 0xA0, 0x03, 0x02, 0x01, 0x02, .. junk, .. der, .. junk, .. der];
        var found = KernelImageCertificates.Read(image, "image");
        Assert.Equal("CN=LkmPowerShell test signing key", Assert.Single(found).Subject);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("xz")]
    [InlineData("zstd")]
    public void A_whole_file_compressed_image_is_decompressed(string tool)
    {
        using var kit = new SigningKit();
        byte[] vmlinux = [.. new byte[100_000], .. File.ReadAllBytes(kit.CertificateDerPath), .. new byte[100]];
        var compressed = CodecTools.Run(tool, ["-c"], vmlinux);
        Assert.Single(KernelImageCertificates.Read(compressed, "Image." + tool));
    }

    [Fact]
    public void A_bzImage_whose_payload_lies_outside_the_file_is_refused()
    {
        var image = new byte[4096];
        "HdrS"u8.CopyTo(image.AsSpan(0x202));
        image[0x206] = 0x0F; image[0x207] = 0x02; // protocol 2.15
        image[0x1F1] = 1;
        BitConverter.TryWriteBytes(image.AsSpan(0x248), 100);
        BitConverter.TryWriteBytes(image.AsSpan(0x24C), 1_000_000);
        var e = Assert.Throws<ModuleFormatException>(() => KernelImageCertificates.Read(image, "vmlinuz-bad"));
        Assert.Contains("outside", e.Message);
    }

    [Fact]
    public void A_bzImage_with_a_truncated_payload_is_a_format_error()
    {
        using var kit = new SigningKit();
        byte[] vmlinux = [.. new byte[10_000], .. File.ReadAllBytes(kit.CertificateDerPath)];
        var xz = CodecTools.Run("xz", ["-c", "--check=crc32"], vmlinux);
        var cut = xz[..(xz.Length / 2)];
        var image = new byte[1024 + cut.Length + 4];
        "HdrS"u8.CopyTo(image.AsSpan(0x202));
        image[0x206] = 0x0F; image[0x207] = 0x02;
        image[0x1F1] = 1;
        BitConverter.TryWriteBytes(image.AsSpan(0x248), 0);
        BitConverter.TryWriteBytes(image.AsSpan(0x24C), cut.Length + 4);
        cut.CopyTo(image.AsSpan(1024));
        Assert.Throws<ModuleFormatException>(() => KernelImageCertificates.Read(image, "vmlinuz-cut"));
        // The whole payload reads.
        var whole = new byte[1024 + xz.Length + 4];
        image.AsSpan(0, 1024).CopyTo(whole);
        BitConverter.TryWriteBytes(whole.AsSpan(0x24C), xz.Length + 4);
        xz.CopyTo(whole.AsSpan(1024));
        Assert.Single(KernelImageCertificates.Read(whole, "vmlinuz-ok"));
    }

    [Fact]
    public void A_signature_that_is_not_a_PKCS7_message_is_invalid()
    {
        var empty = new KernelKeyring([]);
        var module = SigningKit.Append(new byte[100], [0x30, 0x03, 0x02, 0x01, 0x00]);
        var check = ModuleSignatureVerifier.Verify(module, "m.ko", empty);
        Assert.Equal(SignatureVerdict.Invalid, check.Verdict);
        Assert.Contains("not a valid PKCS#7", check.Reason);
    }

    // As signing.c: nothing before the trailer is no signature (ENODATA); less than the 12-byte
    // header is EBADMSG; a header whose id type is not PKCS#7 (here 0, PGP) is ENOPKG.
    [Theory]
    [InlineData(0, SignatureVerdict.Unsigned)]
    [InlineData(5, SignatureVerdict.Invalid)]
    [InlineData(40, SignatureVerdict.Unsupported)]
    public void Short_and_lying_signature_blocks_get_the_kernels_verdicts(int bodyLength, SignatureVerdict expected)
    {
        var keyring = new KernelKeyring([]);
        byte[] bare = [.. new byte[bodyLength], .. Engine.ModuleFiles.ModuleSignature.Magic];
        var check = ModuleSignatureVerifier.Verify(bare, "m.ko", keyring);
        Assert.Equal(expected, check.Verdict);
        var lying = SigningKit.Append(new byte[10], new byte[20]);
        lying[^(Engine.ModuleFiles.ModuleSignature.Magic.Length + 1)] = 0xFF; // sig_len far beyond the file
        Assert.Contains("claims", ModuleSignatureVerifier.Verify(lying, "m.ko", keyring).Reason);
        Assert.Equal(SignatureVerdict.Unsigned, ModuleSignatureVerifier.Verify(new byte[bodyLength], "m.ko", keyring).Verdict);
    }
}
