using System.Buffers.Binary;
using System.Diagnostics;
using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>
/// Damaged variants of real modules: truncations, lying offsets and sizes, bad string indexes,
/// random flips. Each must either read or fail with the one ModuleFormatException, quickly and
/// without allocating far beyond the file's size.
/// </summary>
[Trait("Layer", "Oracle")]
public class HostileModuleTests
{
    private static byte[] Module(string relative) =>
        File.ReadAllBytes(Path.Combine(KernelFixtures.Plain.ModulesDirectory, relative));

    public static IEnumerable<(string What, byte[] Bytes)> Variants(byte[] original)
    {
        // Truncations: every 1/150th of the file, plus the first 256 bytes one by one.
        for (var n = 0; n < 256; n += 3)
            yield return ($"truncated to {n}", original[..n]);
        for (var i = 1; i < 150; i++)
        {
            var n = (int)((long)original.Length * i / 150);
            yield return ($"truncated to {n}", original[..n]);
        }

        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(original.AsSpan(40));
        var shnum = BinaryPrimitives.ReadUInt16LittleEndian(original.AsSpan(60));
        for (var s = 0; s < shnum; s++)
        {
            var at = shoff + s * 64;
            foreach (var (field, offset, size) in new[] { ("sh_name", 0, 4), ("sh_offset", 24, 8), ("sh_size", 32, 8), ("sh_link", 40, 4) })
            {
                foreach (var lie in new ulong[] { 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF, (ulong)original.Length, (ulong)original.Length - 1 })
                {
                    var copy = (byte[])original.Clone();
                    if (size == 8) BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(at + offset), lie);
                    else BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(at + offset), (uint)lie);
                    yield return ($"section {s} {field} = {lie}", copy);
                }
            }
        }
        foreach (var (field, offset, size) in new[] { ("e_shoff", 40, 8), ("e_shnum", 60, 2), ("e_shstrndx", 62, 2), ("e_shentsize", 58, 2) })
        {
            foreach (var lie in new ulong[] { 0, 1, 0xFFFF, (ulong)original.Length })
            {
                var copy = (byte[])original.Clone();
                if (size == 8) BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(offset), lie);
                else BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(offset), (ushort)lie);
                yield return ($"{field} = {lie}", copy);
            }
        }

        // Random flips, seeded so a failure can be reproduced.
        var random = new Random(20261125);
        for (var i = 0; i < 300; i++)
        {
            var copy = (byte[])original.Clone();
            var flips = 1 + random.Next(8);
            for (var f = 0; f < flips; f++)
            {
                // Half the flips aim at the headers, where damage matters most.
                var at = random.Next(2) == 0 ? random.Next(Math.Min(64, copy.Length)) : random.Next(copy.Length);
                if (random.Next(3) == 0 && shoff < copy.Length)
                    at = shoff + random.Next(Math.Min(shnum * 64, copy.Length - shoff));
                copy[at] ^= (byte)(1 << random.Next(8));
            }
            yield return ($"random flips #{i}", copy);
        }
    }

    [Theory]
    [InlineData("kernel/fs/fat/msdos.ko")]
    [InlineData("kernel/drivers/net/dummy.ko")]
    public void DamagedModulesFailWithOneClearException(string relative)
    {
        var original = Module(relative);
        var count = 0;
        var rejected = 0;
        var clock = Stopwatch.StartNew();
        foreach (var (what, bytes) in Variants(original))
        {
            count++;
            var before = GC.GetAllocatedBytesForCurrentThread();
            var one = Stopwatch.StartNew();
            try
            {
                ModuleFileReader.Parse(bytes, "/damaged/" + relative, bytes.Length);
            }
            catch (ModuleFormatException e)
            {
                rejected++;
                Assert.Contains("/damaged/" + relative, e.Message);
                Assert.False(string.IsNullOrWhiteSpace(e.Problem), what);
            }
            catch (Exception e)
            {
                Assert.Fail($"{what}: {e.GetType().Name} instead of ModuleFormatException: {e.Message}");
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 4L * original.Length + (1 << 20), $"{what}: allocated {allocated} bytes for a {original.Length}-byte file");
            Assert.True(one.ElapsedMilliseconds < 2000, $"{what}: took {one.ElapsedMilliseconds} ms");
        }
        Assert.True(count >= 300, $"only {count} variants");
        Assert.True(rejected > count / 4, $"only {rejected} of {count} damaged variants were rejected: the damage is not reaching the reader");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{count} variants took {clock.Elapsed}");
    }
}
