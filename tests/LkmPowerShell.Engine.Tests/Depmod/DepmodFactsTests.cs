using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>
/// depmod's facts-only reading (the same ELF reader and extractor, only the sections it needs,
/// read piecemeal) against the engine's full module reader, on every module of both Debian
/// trees: the same facts, in the same order.
/// </summary>
[Trait("Layer", "Oracle")]
public class DepmodFactsTests
{
    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void SameFactsAsTheModuleReader(string flavour)
    {
        var files = KernelFixtures.Load(flavour).ModuleFiles().ToList();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = 2 }, () => new ModuleFactsReader.Worker(), (file, _, worker) =>
        {
            var lean = worker.Read(file);
            var full = ModuleFacts.From(ModuleFileReader.Read(file));
            if (lean.Problem is not null) failures.Add($"{file}: {lean.Problem}");
            else if (!Same(lean, full)) failures.Add(file);
            return worker;
        }, _ => { });
        Assert.Empty(failures.Take(10));
    }

    private static bool Same(ModuleFacts a, ModuleFacts b) =>
        a.Exports.SequenceEqual(b.Exports) && a.Needs.SequenceEqual(b.Needs) && a.Aliases.SequenceEqual(b.Aliases)
        && a.Softdeps.SequenceEqual(b.Softdeps) && a.Weakdeps.SequenceEqual(b.Weakdeps);

    [Fact]
    public void DamagedFilesAreProblemsNotExceptions()
    {
        var source = KernelFixtures.Plain.ModuleFiles().First(f => f.EndsWith("/dummy.ko", StringComparison.Ordinal));
        var bytes = File.ReadAllBytes(source);
        using var temp = new TempDirectory();
        var worker = new ModuleFactsReader.Worker();
        var random = new Random(4);
        for (var i = 0; i < 300; i++)
        {
            var damaged = (byte[])bytes.Clone();
            if (i % 3 == 0)
                damaged = damaged[..random.Next(damaged.Length)];
            else
                for (var j = 0; j < 8; j++)
                    damaged[random.Next(Math.Min(damaged.Length, i % 3 == 1 ? 64 : damaged.Length))] = (byte)random.Next(256);
            var path = Path.Combine(temp.Path, $"d{i}.ko");
            File.WriteAllBytes(path, damaged);
            _ = worker.Read(path); // must not throw
        }
        Assert.NotNull(worker.Read(Path.Combine(temp.Path, "missing.ko")).Problem);
    }
}
