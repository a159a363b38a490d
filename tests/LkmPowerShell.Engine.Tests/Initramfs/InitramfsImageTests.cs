using System.Text;
using LkmPowerShell.Engine.Initramfs;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.Tests.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Initramfs;

/// <summary>Synthetic initramfs files: each compression, Debian's early part, and hostile archives (contained and bounded).</summary>
public sealed class InitramfsImageTests
{
    private static readonly byte[] Module = [0x7F, (byte)'E', (byte)'L', (byte)'F', .. new byte[60]];

    private static byte[] Early() => new CpioWriter().Directory("kernel").Directory("kernel/x86").Directory("kernel/x86/microcode")
        .File("kernel/x86/microcode/AuthenticAMD.bin", new byte[300]).Finish();

    private static byte[] MainArchive() => new CpioWriter().Directory(".").Directory("usr").Directory("usr/lib/modules/6.1.0-57-amd64/kernel/fs/fat")
        .File("usr/lib/modules/6.1.0-57-amd64/kernel/fs/fat/fat.ko", Module)
        .File("usr/lib/modules/6.1.0-57-amd64/kernel/drivers/usb/storage/usb-storage.ko", Module)
        .File("etc/modprobe.d/local.conf", Encoding.ASCII.GetBytes("blacklist pcspkr\n"))
        .File("usr/lib/modprobe.d/aliases.conf", Encoding.ASCII.GetBytes("alias foo bar\n"))
        .File("conf/modules", Encoding.ASCII.GetBytes("# boot\nfat\n"))
        .Symlink("lib", "usr/lib").Finish();

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("xz")]
    [InlineData("zstd")]
    public void An_early_uncompressed_part_then_the_main_archive_reads(string compression)
    {
        var main = compression == "none" ? MainArchive() : CodecTools.Run(compression, ["-c"], MainArchive());
        var image = InitramfsImage.Parse([.. Early(), .. main], "initrd.img");
        // Plain archives back to back are one uncompressed part; a compressed one starts a part of its own.
        Assert.Equal(compression == "none" ? 1 : 2, image.Segments.Count);
        Assert.Equal(ModuleCompression.None, image.Segments[0].Compression);
        Assert.Equal(compression switch { "gzip" => ModuleCompression.Gzip, "xz" => ModuleCompression.Xz, "zstd" => ModuleCompression.Zstd, _ => ModuleCompression.None }, image.Segments[^1].Compression);
        Assert.Equal(["fat", "usb_storage"], image.Modules.Select(m => m.Name));
        Assert.Equal("kernel/fs/fat/fat.ko", image.Modules[0].TreePath);
        Assert.Equal("6.1.0-57-amd64", image.Modules[0].KernelVersion);
        Assert.Equal(["usr/lib/modprobe.d/aliases.conf", "etc/modprobe.d/local.conf"], image.ModprobeFiles.Select(f => f.ArchivePath));
        Assert.Equal(["fat"], InitramfsAudit.ModuleList(Assert.Single(image.ModulesLoadFiles).Text));
        Assert.Empty(image.Unsafe);
        Assert.Equal("usr/lib", image.Entries.Single(e => e.IsSymbolicLink).LinkTarget);
    }

    [Fact]
    public void Names_that_leave_the_root_are_flagged_and_never_taken_as_modules()
    {
        var bytes = new CpioWriter()
            .File("../../lib/modules/6.1.0-57-amd64/kernel/evil.ko", Module)
            .File("usr/lib/modules/6.1.0-57-amd64/../../../../etc/shadow", [1, 2, 3])
            .Symlink("usr/lib/modules/6.1.0-57-amd64/kernel/link.ko", "/etc/passwd")
            .File("/usr/lib/modules/6.1.0-57-amd64/kernel/ok.ko", Module)
            .Finish();
        var image = InitramfsImage.Parse(bytes, "hostile");
        Assert.Equal(2, image.Unsafe.Count);
        Assert.Equal(["ok"], image.Modules.Select(m => m.Name)); // the link is not followed, the ".." ones are not modules
    }

    [Fact]
    public void Hard_links_take_the_data_of_the_copy_that_holds_it()
    {
        var bytes = new CpioWriter()
            .File("usr/lib/modules/6.1.0-57-amd64/kernel/a.ko", [], links: 2, inode: 7)
            .File("usr/lib/modules/6.1.0-57-amd64/kernel/b.ko", Module, links: 2, inode: 7)
            .Finish();
        var image = InitramfsImage.Parse(bytes, "links");
        Assert.All(image.Modules, m => Assert.Equal(Module.Length, m.Data.Length));
    }

    [Fact]
    public void A_size_beyond_the_data_is_a_truncated_archive_not_an_allocation()
    {
        var bytes = new CpioWriter().File("big.ko", Module, declaredSize: 0xFFFFFFF0).Finish();
        var e = Assert.Throws<ModuleFormatException>(() => InitramfsImage.Parse(bytes, "huge"));
        Assert.Contains("truncated", e.Message);
        var name = new CpioWriter().File("x", Module, declaredNameSize: 0x7FFFFFFF).Finish();
        Assert.Contains("name", Assert.Throws<ModuleFormatException>(() => InitramfsImage.Parse(name, "name")).Message);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("xz")]
    [InlineData("zstd")]
    public void A_truncated_archive_is_a_format_error(string compression)
    {
        var main = compression == "none" ? MainArchive() : CodecTools.Run(compression, ["-c"], MainArchive());
        byte[] cut = [.. Early(), .. main[..(main.Length * 2 / 3)]];
        Assert.Throws<ModuleFormatException>(() => InitramfsImage.Parse(cut, "cut"));
    }

    [Fact]
    public void Garbage_a_bad_header_field_and_an_empty_file_are_format_errors()
    {
        Assert.Throws<ModuleFormatException>(() => InitramfsImage.Parse(Encoding.ASCII.GetBytes("not an initramfs at all"), "junk"));
        Assert.Throws<ModuleFormatException>(() => InitramfsImage.Parse(new byte[4096], "zeros"));
        var bad = MainArchive();
        bad[6] = (byte)'Z'; // the first header's inode field
        Assert.Throws<ModuleFormatException>(() => InitramfsImage.Parse(bad, "bad"));
        byte[] lz4 = [.. Early(), 0x02, 0x21, 0x4C, 0x18, 1, 2, 3];
        Assert.Contains("lz4", Assert.Throws<ModuleFormatException>(() => InitramfsImage.Parse(lz4, "lz4")).Message);
    }

    [Fact]
    public void A_decompression_bomb_stops_at_the_bound()
    {
        var bomb = CodecTools.Run("zstd", ["-c"], new CpioWriter().File("zeros", new byte[8 << 20]).Finish());
        Assert.True(bomb.Length < 100_000);
        var e = Assert.Throws<ModuleFormatException>(() => InitramfsImage.Parse(bomb, "bomb", maxDecompressedBytes: 1 << 20));
        Assert.Contains("limit", e.Message);
    }
}
