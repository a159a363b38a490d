using System.Diagnostics;
using LkmPowerShell.Engine.Depmod;
using Xunit;
using Xunit.Abstractions;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>
/// The whole Debian trees against what Debian's depmod (kmod 30) wrote into them: every file, byte
/// for byte. Output goes to a temporary OutputRoot; the fixture is only read.
/// </summary>
[Trait("Layer", "Oracle")]
public class FullTreeTests(ITestOutputHelper output)
{
    internal static readonly string[] KmodFiles =
    [
        "modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin", "modules.softdep",
        "modules.symbols", "modules.symbols.bin", "modules.builtin.bin", "modules.builtin.alias.bin", "modules.devname",
    ];

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void EveryFileEqualsDebiansDepmod(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        using var temp = new TempDirectory();
        var clock = Stopwatch.StartNew();
        var result = DepmodRunner.Run(new DepmodOptions
        {
            Root = new SystemRoot(kernel.Root),
            KernelVersion = kernel.Version,
            OutputRoot = temp.Path,
            ConfigPaths = [],
            UseCache = false,
        });
        output.WriteLine($"{flavour}: {result.ModuleCount} modules, {result.SymbolCount} symbols, {result.AliasCount} aliases, {clock.ElapsedMilliseconds} ms, {result.Warnings.Count} warnings");
        foreach (var w in result.Warnings.Take(5)) output.WriteLine("  " + w.Message);
        var outDir = Path.Combine(temp.Path, "lib/modules", kernel.Version);
        Assert.Equal(outDir, result.OutputDirectory);
        foreach (var name in KmodFiles)
        {
            var expected = File.ReadAllBytes(Path.Combine(kernel.ModulesDirectory, name));
            var actual = File.ReadAllBytes(Path.Combine(outDir, name));
            output.WriteLine($"  {name}: {actual.Length} bytes, {(expected.AsSpan().SequenceEqual(actual) ? "identical" : "DIFFERENT")}");
        }
        foreach (var name in KmodFiles)
            AssertSameBytes(Path.Combine(kernel.ModulesDirectory, name), Path.Combine(outDir, name));
        Assert.True(File.Exists(Path.Combine(outDir, "modules.weakdep")));
        Assert.Empty(result.Warnings);
    }

    internal static void AssertSameBytes(string expectedPath, string actualPath)
    {
        var expected = File.ReadAllBytes(expectedPath);
        var actual = File.ReadAllBytes(actualPath);
        if (expected.AsSpan().SequenceEqual(actual)) return;
        var at = expected.AsSpan().CommonPrefixLength(actual);
        var context = (byte[] b) => System.Text.Encoding.Latin1.GetString(b, Math.Max(0, at - 60), Math.Min(b.Length - Math.Max(0, at - 60), 120));
        Assert.Fail($"{Path.GetFileName(actualPath)} differs at byte {at} (lengths {expected.Length} expected, {actual.Length} actual)\nexpected: {context(expected)}\nactual:   {context(actual)}");
    }
}

/// <summary>A folder under /tmp removed when disposed.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lkmps-depmod-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
