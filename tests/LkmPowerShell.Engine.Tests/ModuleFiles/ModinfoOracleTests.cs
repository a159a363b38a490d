using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>
/// Every module of both Debian trees: the engine's modinfo record equals kmod's "modinfo -0"
/// byte for byte (every field, parameters merged, signature fields included).
/// </summary>
[Trait("Layer", "Oracle")]
public class ModinfoOracleTests
{
    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void EveryModuleMatchesKmodModinfo(string flavour)
    {
        var fixture = KernelFixtures.Load(flavour);
        var files = fixture.ModuleFiles().ToList();
        Assert.True(files.Count > 4000, $"expected over 4,000 modules in {fixture.ModulesDirectory}, found {files.Count}");

        var expected = KmodOracle.ModinfoRecords(files);
        Assert.Equal(files.Count, expected.Count);

        var mismatches = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = 2 }, file =>
        {
            string actual;
            try
            {
                actual = ModinfoText.Format(ModuleFileReader.Read(file), '\0');
            }
            catch (Exception e)
            {
                mismatches.Add($"{file}: {e.GetType().Name}: {e.Message}");
                return;
            }
            if (actual != expected[file])
                mismatches.Add(Describe(file, expected[file], actual));
        });
        Assert.True(mismatches.IsEmpty, $"{mismatches.Count} of {files.Count} modules differ from modinfo, e.g.\n" + string.Join("\n", mismatches.Take(3)));
    }

    /// <summary>Where two records part, with some context, so a failure is readable.</summary>
    private static string Describe(string file, string expected, string actual)
    {
        var i = 0;
        while (i < expected.Length && i < actual.Length && expected[i] == actual[i])
            i++;
        var from = Math.Max(0, i - 60);
        string Around(string s) => s.Substring(from, Math.Min(s.Length - from, 160)).Replace('\0', '|');
        return $"{file}: differs at character {i}\n  kmod:   ...{Around(expected)}\n  engine: ...{Around(actual)}";
    }
}
