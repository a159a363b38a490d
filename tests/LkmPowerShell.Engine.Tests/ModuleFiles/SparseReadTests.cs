using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>
/// An uncompressed module is read piecemeal (the parts used, the end in one read); a module in
/// memory is parsed whole. Both must say the same about every file, damaged ones included: the
/// same facts, or the same problem.
/// </summary>
[Trait("Layer", "Oracle")]
public class SparseReadTests
{
    [Fact]
    public void PiecemealReadingAgreesWithParsingTheWholeFile()
    {
        var sources = KernelFixtures.Plain.ModuleFiles()
            .Where(f => f.EndsWith("/dummy.ko", StringComparison.Ordinal) || f.EndsWith("/fat.ko", StringComparison.Ordinal) || f.EndsWith("/snd-hda-intel.ko", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(3, sources.Count);
        using var temp = new Depmod.TempDirectory();
        var random = new Random(11);
        var differ = new List<string>();
        var i = 0;
        foreach (var source in sources)
        {
            var bytes = File.ReadAllBytes(source);
            for (var n = 0; n < 120; n++, i++)
            {
                var damaged = (byte[])bytes.Clone();
                switch (n % 4)
                {
                    case 0: damaged = damaged[..random.Next(1, damaged.Length)]; break;                 // truncated
                    case 1: for (var j = 0; j < 8; j++) damaged[random.Next(64)] = (byte)random.Next(256); break; // ELF header
                    case 2: for (var j = 0; j < 8; j++) damaged[damaged.Length - 1 - random.Next(Math.Min(damaged.Length, 40 * 1024))] = (byte)random.Next(256); break; // the end: signature, section headers, symbols
                    default: for (var j = 0; j < 16; j++) damaged[random.Next(damaged.Length)] = (byte)random.Next(256); break;
                }
                var path = Path.Combine(temp.Path, $"d{i}.ko");
                File.WriteAllBytes(path, damaged);
                var piecemeal = Outcome(() => ModuleFileReader.Read(path));
                var whole = Outcome(() => ModuleFileReader.Parse(damaged, path, damaged.Length));
                if (piecemeal != whole)
                    differ.Add($"{Path.GetFileName(source)} variant {n}:\n  piecemeal: {piecemeal}\n  whole:     {whole}");
            }
        }
        Assert.True(differ.Count == 0, $"{differ.Count} of {i} variants differ, e.g.\n" + string.Join("\n", differ.Take(3)));
    }

    private static string Outcome(Func<ModuleFileInfo> read)
    {
        try
        {
            var info = read();
            return $"{ModinfoText.Format(info)}|{info.InternalName}|{info.Exports.Count}|{info.RequiredSymbols.Count}|{info.SymbolProblem}|{info.SignatureProblem}";
        }
        catch (ModuleFormatException e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }
}
