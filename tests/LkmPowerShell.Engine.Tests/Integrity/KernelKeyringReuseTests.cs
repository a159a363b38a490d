using LkmPowerShell.Engine.Integrity;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Integrity;

/// <summary>
/// The keyring reuses the certificates of the last kernel image it read when the image's bytes
/// are the same, and only then: an image replaced in place, keeping its size and time, is read again.
/// Not run beside other tests: they read kernel images too, and would take the last image's place.
/// </summary>
[Collection(nameof(KernelImageReuseCollection))]
public sealed class KernelKeyringReuseTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lkm-keyring-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>An uncompressed image of exactly <paramref name="length"/> bytes holding the kit's certificate.</summary>
    private static byte[] Image(SigningKit kit, int length)
    {
        var der = File.ReadAllBytes(kit.CertificateDerPath);
        var image = new byte[length];
        der.CopyTo(image, 1000);
        return image;
    }

    [Fact]
    public void The_same_image_read_again_gives_the_same_certificates_without_reading_them_again()
    {
        using var kit = new SigningKit("ec:prime256v1");
        var path = Path.Combine(_folder, "vmlinuz");
        File.WriteAllBytes(path, Image(kit, 20_000));

        var first = KernelKeyring.FromKernelImage(path);
        var second = KernelKeyring.FromKernelImage(path);

        Assert.Same(Assert.Single(first.Certificates).Certificate, Assert.Single(second.Certificates).Certificate);
        Assert.Equal($"{path} (built in)", second.Certificates[0].Source);
    }

    [Fact]
    public void An_image_replaced_with_the_same_size_and_time_is_read_again()
    {
        using var kitA = new SigningKit("ec:prime256v1");
        using var kitB = new SigningKit("ec:prime256v1");
        var path = Path.Combine(_folder, "vmlinuz");
        var time = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.WriteAllBytes(path, Image(kitA, 20_000));
        File.SetLastWriteTimeUtc(path, time);
        var before = Assert.Single(KernelKeyring.FromKernelImage(path).Certificates).Certificate.Thumbprint;

        File.WriteAllBytes(path, Image(kitB, 20_000));
        File.SetLastWriteTimeUtc(path, time);
        var after = Assert.Single(KernelKeyring.FromKernelImage(path).Certificates).Certificate.Thumbprint;

        Assert.NotEqual(before, after);
        Assert.Equal(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(kitB.CertificateDerPath).Thumbprint, after);
    }
}

/// <summary>Serialises the tests that depend on which kernel image the keyring read last.</summary>
[CollectionDefinition(nameof(KernelImageReuseCollection), DisableParallelization = true)]
public sealed class KernelImageReuseCollection;
