using LkmPowerShell.Fuzz;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// Replays every input kept in fuzz/regressions through its fuzz target, and runs a seconds-long
/// smoke of each target on deterministic mutations of real files: the CI-sized share of the
/// campaign (fuzz/Invoke-Fuzz.ps1 runs the coverage-guided one with AFL++).
/// </summary>
[Trait("Layer", "Oracle")]
public sealed class FuzzRegressionTests
{
    private static readonly string Regressions = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../fuzz/regressions"));

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var dir in Directory.EnumerateDirectories(Regressions).Order(StringComparer.Ordinal))
            foreach (var file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
                data.Add(Path.GetFileName(dir), Path.GetFileName(file));
        return data;
    }

    [Fact]
    public void EveryTargetHasRegressionInputs() =>
        Assert.All(Targets.All.Keys, t => Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(Regressions, t))));

    [Theory]
    [MemberData(nameof(Inputs))]
    public void RegressionInputIsHandled(string target, string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Regressions, target, file));
        Within.Seconds(() => { Targets.All[target](bytes); return 0; });
    }

    /// <summary>300 mutations (bit flips, truncations, byte runs) of each target's seeds: seconds, never a crash.</summary>
    [Theory]
    [InlineData("module")]
    [InlineData("index")]
    [InlineData("modules-dep")]
    [InlineData("modprobe-d")]
    [InlineData("kallsyms")]
    [InlineData("module-file")]
    [InlineData("depmod-cache")]
    public void SmokeRun(string target)
    {
        var seeds = Directory.EnumerateFiles(Path.Combine(Regressions, target)).Select(File.ReadAllBytes).ToList();
        seeds.AddRange(FixtureSeeds(target));
        var random = new Random(10);
        Within.Seconds(() =>
        {
            for (var i = 0; i < 300; i++)
                Targets.All[target](Mutate(seeds[i % seeds.Count], random));
            return 0;
        });
    }

    private static IEnumerable<byte[]> FixtureSeeds(string target)
    {
        var tree = KernelFixtures.Plain.ModulesDirectory;
        switch (target)
        {
            case "module":
                yield return File.ReadAllBytes(Path.Combine(tree, "kernel/fs/fat/msdos.ko"));
                var xz = Directory.EnumerateFiles(KernelFixtures.Load("xz").ModulesDirectory, "*.ko.xz", SearchOption.AllDirectories).First();
                yield return File.ReadAllBytes(xz);
                break;
            case "index":
                yield return File.ReadAllBytes(Path.Combine(tree, "modules.builtin.alias.bin"));
                break;
            case "modules-dep":
                yield return [0, .. File.ReadAllBytes(Path.Combine(tree, "modules.dep")).Take(4000)];
                yield return [2, .. File.ReadAllBytes(Path.Combine(tree, "modules.softdep"))];
                break;
            case "modprobe-d":
                yield return File.ReadAllBytes(Path.Combine(tree, "modules.softdep"));
                break;
            case "kallsyms":
                yield return File.ReadAllLines(Path.Combine(KernelFixtures.Plain.Root, "boot", $"System.map-{KernelFixtures.Plain.Version}"))
                    .Take(200).SelectMany(l => System.Text.Encoding.UTF8.GetBytes(l + "\n")).ToArray();
                break;
            case "module-file":
                // One under the 32 KiB tail the sparse reader reads first, one over it.
                yield return File.ReadAllBytes(Path.Combine(tree, "kernel/fs/fat/msdos.ko"));
                yield return File.ReadAllBytes(Path.Combine(tree, "kernel/fs/fat/vfat.ko"));
                break;
            case "depmod-cache":
                var folder = Directory.CreateTempSubdirectory("lkm-seeds-").FullName;
                try
                {
                    Seeds.DepmodCache(folder, tree);
                    yield return File.ReadAllBytes(Path.Combine(folder, "cache"));
                    yield return File.ReadAllBytes(Path.Combine(folder, "record"));
                }
                finally
                {
                    Directory.Delete(folder, recursive: true);
                }
                break;
        }
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = (byte[])seed.Clone();
        switch (random.Next(3))
        {
            case 0:
                for (var n = random.Next(1, 9); n > 0 && bytes.Length > 0; n--)
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                break;
            case 1:
                bytes = bytes[..random.Next(bytes.Length + 1)];
                break;
            default:
                if (bytes.Length > 0)
                {
                    var at = random.Next(bytes.Length);
                    bytes.AsSpan(at, Math.Min(bytes.Length - at, random.Next(1, 64))).Fill((byte)random.Next(256));
                }
                break;
        }
        return bytes;
    }
}
