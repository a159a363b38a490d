using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>Decompression of module files: by magic, identical to the reference tools, bounded, and failing clearly.</summary>
public class CodecDecompressionTests
{
    internal static readonly byte[] ElfMagic = [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    [Theory]
    [InlineData(new byte[] { 0x28, 0xB5, 0x2F, 0xFD, 0x04 }, ModuleCompression.Zstd)]
    [InlineData(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00 }, ModuleCompression.Xz)]
    [InlineData(new byte[] { 0x1F, 0x8B, 0x08 }, ModuleCompression.Gzip)]
    [InlineData(new byte[] { 0x7F, 0x45, 0x4C, 0x46 }, ModuleCompression.None)]
    [InlineData(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A }, ModuleCompression.None)] // xz magic cut short
    [InlineData(new byte[] { 0x28, 0xB5, 0x2F }, ModuleCompression.None)]
    [InlineData(new byte[] { 0x1F }, ModuleCompression.None)]
    [InlineData(new byte[0], ModuleCompression.None)]
    public void DetectsByMagic(byte[] head, ModuleCompression expected) =>
        Assert.Equal(expected, ModuleDecompressor.Detect(head));

    /// <summary>Modules compressed by the zstd tool, in the variants it can write, round-trip exactly.</summary>
    [Fact]
    public void Zstd_RoundTripsModulesCompressedByTheZstdTool()
    {
        foreach (var (file, original) in SampleModules())
        {
            foreach (var options in new[] { new[] { "-q", "-c" }, ["-q", "-c", "-19"], ["-q", "-c", "--no-check"], ["-q", "-c", "--no-content-size"] })
            {
                var compressed = CodecTools.Run("zstd", options, original);
                Assert.Equal(ModuleCompression.Zstd, ModuleDecompressor.Detect(compressed));
                Assert.Equal(original, ModuleDecompressor.Decompress(compressed, ModuleCompression.Zstd, file));
            }
            // Two frames one after the other are one zstd stream, as zstd -d reads them.
            var half = original.Length / 2;
            var twoFrames = CodecTools.Run("zstd", ["-q", "-c"], original[..half]).Concat(CodecTools.Run("zstd", ["-q", "-c"], original[half..])).ToArray();
            Assert.Equal(original, ModuleDecompressor.Decompress(twoFrames, ModuleCompression.Zstd, file));
        }
    }

    [Fact]
    public void Gzip_RoundTripsModulesIncludingConcatenatedMembers()
    {
        foreach (var (file, original) in SampleModules())
        {
            var compressed = GzipCompress(original);
            Assert.Equal(ModuleCompression.Gzip, ModuleDecompressor.Detect(compressed));
            Assert.Equal(original, ModuleDecompressor.Decompress(compressed, ModuleCompression.Gzip, file));
            var half = original.Length / 2;
            var twoMembers = GzipCompress(original[..half]).Concat(GzipCompress(original[half..])).ToArray();
            Assert.Equal(original, ModuleDecompressor.Decompress(twoMembers, ModuleCompression.Gzip, file));
        }
    }

    [Fact]
    public void ReusedBuffer_GrowsAndGivesTheSameBytes()
    {
        var modules = SampleModules().ToArray();
        var compressed = modules.Select(m => CodecTools.Run("xz", ["-c", "-0", "--check=crc32"], m.Bytes)).ToArray();
        byte[] buffer = new byte[16];
        foreach (var i in new[] { 0, 1, 2, 1, 0 })
        {
            var (file, original) = modules[i];
            var n = ModuleDecompressor.Decompress(compressed[i], ModuleCompression.Xz, file, ref buffer);
            Assert.Equal(original, buffer.AsSpan(0, n).ToArray());
        }
        var plain = modules[0].Bytes;
        Assert.Equal(plain, ModuleDecompressor.Decompress(plain, ModuleCompression.None, modules[0].Path));
    }

    /// <summary>Output beyond the limit is an error in every format, and output exactly at the limit is not.</summary>
    [Fact]
    public void DecompressionBomb_IsAnErrorAtTheLimit()
    {
        var zeros = new byte[8 << 20];
        var bombs = new (ModuleCompression Kind, byte[] Data)[]
        {
            (ModuleCompression.Gzip, GzipCompress(zeros)),
            (ModuleCompression.Xz, CodecTools.Run("xz", ["-c"], zeros)),
            (ModuleCompression.Zstd, CodecTools.Run("zstd", ["-q", "-c"], zeros)),
            (ModuleCompression.Zstd, CodecTools.Run("zstd", ["-q", "-c", "--no-content-size"], zeros)),
        };
        foreach (var (kind, data) in bombs)
        {
            foreach (var limit in new long[] { 1 << 20, zeros.Length - 1, 0 })
            {
                var e = Assert.Throws<ModuleFormatException>(() => ModuleDecompressor.Decompress(data, kind, "bomb.ko", limit));
                Assert.Contains("limit", e.Message);
                Assert.Equal("bomb.ko", e.FilePath);
            }
            Assert.Equal(zeros.Length, ModuleDecompressor.Decompress(data, kind, "bomb.ko", zeros.Length).Length);
        }
        Assert.Throws<ModuleFormatException>(() => ModuleDecompressor.Decompress(zeros, ModuleCompression.None, "big.ko", 1000));
    }

    /// <summary>
    /// Hundreds of truncated and bit-flipped variants of a compressed module: each is either the
    /// one clear error or (a flip in bytes the format does not check) the original bytes; never
    /// another exception, never wrong bytes from a checksummed format, always quickly.
    /// </summary>
    [Theory]
    [InlineData(ModuleCompression.Xz)]
    [InlineData(ModuleCompression.Zstd)]
    [InlineData(ModuleCompression.Gzip)]
    public void DamagedInput_GivesTheClearErrorQuickly(ModuleCompression kind)
    {
        var (file, original) = SampleModules().First();
        var compressed = kind switch
        {
            ModuleCompression.Xz => CodecTools.Run("xz", ["-c", "--check=crc32"], original),
            ModuleCompression.Zstd => CodecTools.Run("zstd", ["-q", "-c"], original),
            _ => GzipCompress(original),
        };
        var variants = new List<(string What, byte[] Data, bool MustFail)>();
        for (var i = 0; i < 150; i++)
        {
            var length = (int)((long)compressed.Length * i / 150);
            variants.Add(($"truncated to {length}", compressed[..length], true));
        }
        var random = new Random(1234 + (int)kind);
        for (var i = 0; i < 250; i++)
        {
            var flipped = (byte[])compressed.Clone();
            var at = random.Next(flipped.Length);
            flipped[at] ^= (byte)(1 << random.Next(8));
            variants.Add(($"bit flipped at {at}", flipped, false));
        }
        variants.Add(("trailing garbage", compressed.Concat(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }).ToArray(), false));

        var problems = new List<string>();
        var slowest = TimeSpan.Zero;
        foreach (var (what, data, mustFail) in variants)
        {
            var sw = Stopwatch.StartNew();
            try
            {
                var result = ModuleDecompressor.Decompress(data, kind, file);
                if (mustFail || !result.AsSpan().SequenceEqual(original))
                    problems.Add($"{what}: no error, {result.Length} bytes");
            }
            catch (ModuleFormatException e)
            {
                if (e.FilePath != file || string.IsNullOrWhiteSpace(e.Problem))
                    problems.Add($"{what}: error without file or problem");
            }
            catch (Exception e)
            {
                problems.Add($"{what}: {e.GetType().Name}: {e.Message}");
            }
            slowest = sw.Elapsed > slowest ? sw.Elapsed : slowest;
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(slowest < TimeSpan.FromSeconds(5), $"slowest variant took {slowest}");
    }

    [Fact]
    public void MissingNativeLibrary_IsAClearErrorNamingThePackage()
    {
        Assert.Null(LzmaDecoder.TryCreate("liblzma-not-installed.so.5", out var lzmaError));
        Assert.False(string.IsNullOrEmpty(lzmaError));
        Assert.Null(ZstdDecoder.TryCreate("libzstd-not-installed.so.1", out var zstdError));
        Assert.False(string.IsNullOrEmpty(zstdError));
        var e = new NativeLibraryMissingException("/m/fat.ko.xz", ModuleCompression.Xz, LzmaDecoder.DefaultLibrary, LzmaDecoder.Package);
        Assert.Equal("/m/fat.ko.xz: reading xz-compressed modules needs liblzma.so.5 (Debian package liblzma5).", e.Message);
        // The real libraries are present on the project's machines, and they bind.
        Assert.NotNull(LzmaDecoder.TryCreate(LzmaDecoder.DefaultLibrary, out _));
        Assert.NotNull(ZstdDecoder.TryCreate(ZstdDecoder.DefaultLibrary, out _));
    }

    [Fact]
    public void NotCompressedAsClaimed_IsAFormatError()
    {
        var (file, original) = SampleModules().First();
        foreach (var kind in new[] { ModuleCompression.Xz, ModuleCompression.Zstd, ModuleCompression.Gzip })
        {
            var e = Assert.Throws<ModuleFormatException>(() => ModuleDecompressor.Decompress(original, kind, file));
            Assert.Equal(file, e.FilePath);
        }
    }

    /// <summary>Three modules of the synthetic tree, smallest first (the reused buffer must grow).</summary>
    internal static IEnumerable<(string Path, byte[] Bytes)> SampleModules()
    {
        var dir = Path.Combine(TestKit.SyntheticTree.Shared.ModulesDirectory, "kernel");
        foreach (var rel in new[] { "fs/nls/nls_cp437.ko", "fs/fat/msdos.ko", "drivers/misc/lkm_params.ko" })
        {
            var path = Path.Combine(dir, rel);
            yield return (path, File.ReadAllBytes(path));
        }
    }

    private static byte[] GzipCompress(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(data);
        return output.ToArray();
    }
}

/// <summary>Debian's whole xz tree decompressed, a sample compared with xz -dc.</summary>
[Trait("Layer", "Oracle")]
public class CodecDecompressionOracleTests
{
    /// <summary>
    /// Every module of the 6.12 tree decompresses (two threads, as depmod will) to an ELF file that
    /// ends with the signature trailer; a sample of 200 is byte-identical to `xz -dc`.
    /// </summary>
    [Fact]
    public void XzTree_EveryModuleDecompresses_SampleIdenticalToXzTool()
    {
        var files = KernelFixtures.Xz.ModuleFiles().ToArray();
        Assert.True(files.Length > 4000, $"only {files.Length} modules in the xz fixture");
        var failures = new ConcurrentBag<string>();
        var sha = new string[files.Length];
        long totalOut = 0;
        var sw = Stopwatch.StartNew();
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, t =>
        {
            byte[] buffer = [];
            for (var i = t; i < files.Length; i += 2)
            {
                var data = File.ReadAllBytes(files[i]);
                if (ModuleDecompressor.Detect(data) != ModuleCompression.Xz)
                {
                    failures.Add($"{files[i]}: not detected as xz");
                    continue;
                }
                var n = ModuleDecompressor.Decompress(data, ModuleCompression.Xz, files[i], ref buffer);
                var module = buffer.AsSpan(0, n);
                if (!module.StartsWith(CodecDecompressionTests.ElfMagic) || !module.EndsWith(ModuleSignature.Magic))
                    failures.Add($"{files[i]}: no ELF magic or no signature trailer");
                Interlocked.Add(ref totalOut, n);
                if (i % 21 == 0)
                    sha[i] = Convert.ToHexString(SHA256.HashData(module));
            }
        });
        var ours = sw.Elapsed;
        Assert.Empty(failures);

        var sample = Enumerable.Range(0, files.Length).Where(i => i % 21 == 0).ToArray();
        Assert.True(sample.Length >= 200, $"sample of {sample.Length}");
        Parallel.ForEach(sample, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var reference = Convert.ToHexString(SHA256.HashData(CodecTools.Run("xz", ["-dc", files[i]])));
            if (reference != sha[i])
                failures.Add($"{files[i]}: differs from xz -dc");
        });
        Assert.Empty(failures);
        Console.WriteLine($"xz tree: {files.Length} modules, {totalOut:N0} bytes in {ours.TotalMilliseconds:N0} ms on 2 threads; {sample.Length} compared with xz -dc");
    }
}
