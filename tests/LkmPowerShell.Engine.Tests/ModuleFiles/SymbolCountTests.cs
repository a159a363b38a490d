using System.Buffers.Binary;
using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>
/// A read that only counts the symbols (what Get-KernelModule's objects show) must say what a read
/// that keeps them says: the same counts, the same problems, the same everything else, for every
/// real module and for damaged ones.
/// </summary>
[Trait("Layer", "Oracle")]
public class SymbolCountTests
{
    [Fact]
    public void CountingAgreesWithTheListsForEveryModuleOfThe61Tree()
    {
        var differ = new List<string>();
        var files = KernelFixtures.Plain.ModuleFiles().ToList();
        Assert.True(files.Count > 4000);
        foreach (var file in files)
        {
            var (lists, counts) = (Outcome(() => ModuleFileReader.Read(file)), Outcome(() => ModuleFileReader.Read(file, detail: ModuleSymbolDetail.Counts)));
            if (lists != counts)
                differ.Add($"{file}:\n  lists:  {lists}\n  counts: {counts}");
        }
        Assert.True(differ.Count == 0, $"{differ.Count} of {files.Count} modules differ, e.g.\n" + string.Join("\n", differ.Take(3)));
    }

    [Fact]
    public void CountingAgreesWithTheListsForCompressedModules()
    {
        // Every 16th module of the xz tree: the decompressed path, without the whole tree's decompression time.
        var files = KernelFixtures.Xz.ModuleFiles().Where((_, i) => i % 16 == 0).ToList();
        Assert.True(files.Count > 200);
        foreach (var file in files)
            Assert.Equal(Outcome(() => ModuleFileReader.Read(file)), Outcome(() => ModuleFileReader.Read(file, detail: ModuleSymbolDetail.Counts)));
    }

    [Fact]
    public void CountingAgreesWithTheListsForDamagedModules()
    {
        var sources = KernelFixtures.Plain.ModuleFiles()
            .Where(f => f.EndsWith("/dummy.ko", StringComparison.Ordinal) || f.EndsWith("/fat.ko", StringComparison.Ordinal) || f.EndsWith("/snd-hda-intel.ko", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(3, sources.Count);
        var random = new Random(12);
        var differ = new List<string>();
        var problems = 0;
        var i = 0;
        foreach (var source in sources)
        {
            var bytes = File.ReadAllBytes(source);
            var elf = Elf.ElfImage.Parse(bytes, source);
            // The parts the counts come from: the symbol table, its strings, __versions, the CRC and export string sections.
            var targets = new[] { ".symtab", ".strtab", "__versions", "__ksymtab_strings", "__kcrctab", "__kcrctab_gpl", ".rodata" }
                .Select(elf.FindSection).Where(s => s is { Size: > 0 }).ToList();
            for (var n = 0; n < 200; n++, i++)
            {
                var damaged = (byte[])bytes.Clone();
                var section = targets[n % targets.Count]!;
                for (var j = 0; j < 1 + n % 8; j++)
                    damaged[(int)section.Offset + random.Next((int)section.Size)] = (byte)random.Next(256);
                if (n % 5 == 0) // a section header's size or offset: sections that lie outside the file
                    BinaryPrimitives.WriteUInt64LittleEndian(damaged.AsSpan((int)section.HeaderOffset + (n % 10 == 0 ? 24 : 32)), (ulong)random.Next(1, 1 << 30));
                var (lists, counts) = (Outcome(() => ModuleFileReader.Parse(damaged, "d.ko", damaged.Length)),
                    Outcome(() => ModuleFileReader.Parse(damaged, "d.ko", damaged.Length, ModuleSymbolDetail.Counts)));
                if (lists.Contains("|problem ", StringComparison.Ordinal) && !lists.Contains("|problem |", StringComparison.Ordinal))
                    problems++; // read, with a symbol problem
                if (lists != counts)
                    differ.Add($"{Path.GetFileName(source)} variant {n}:\n  lists:  {lists}\n  counts: {counts}");
            }
        }
        Assert.True(differ.Count == 0, $"{differ.Count} of {i} variants differ, e.g.\n" + string.Join("\n", differ.Take(3)));
        Console.WriteLine($"{problems} of {i} damaged variants were read with a symbol problem");
        Assert.True(problems > 20, $"only {problems} of {i} variants had a symbol problem: the damage does not reach the symbols");
    }

    [Fact]
    public void ACountedReadSaysSoWhenItsListsAreAskedFor()
    {
        var file = KernelFixtures.Plain.ModuleFiles().First(f => f.EndsWith("/dummy.ko", StringComparison.Ordinal));
        var info = ModuleFileReader.Read(file, detail: ModuleSymbolDetail.Counts);
        Assert.Equal(ModuleSymbolDetail.Counts, info.SymbolDetail);
        Assert.True(info.RequiredSymbolCount > 0);
        var e = Assert.Throws<InvalidOperationException>(() => info.RequiredSymbols);
        Assert.Contains("counted, not kept", e.Message);
        Assert.Throws<InvalidOperationException>(() => info.Exports);
        Assert.Throws<InvalidOperationException>(() => info.Versions);
        var full = ModuleFileReader.Read(file);
        Assert.Equal(ModuleSymbolDetail.Lists, full.SymbolDetail);
        Assert.Equal(full.RequiredSymbols.Count, full.RequiredSymbolCount);
        Assert.Equal(full.Exports.Count, full.ExportedSymbolCount);
    }

    private static string Outcome(Func<ModuleFileInfo> read)
    {
        try
        {
            var info = read();
            var exports = info.SymbolDetail == ModuleSymbolDetail.Lists ? info.Exports.Count : info.ExportedSymbolCount;
            var required = info.SymbolDetail == ModuleSymbolDetail.Lists ? info.RequiredSymbols.Count : info.RequiredSymbolCount;
            return $"{ModinfoText.Format(info)}|{info.InternalName}|{exports}|{required}|{info.ExportedSymbolCount}|{info.RequiredSymbolCount}|problem {info.SymbolProblem}|{info.SignatureProblem}";
        }
        catch (ModuleFormatException e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }
}
