using ELFSharp.ELF;
using ELFSharp.ELF.Sections;
using LkmPowerShell.Engine.Elf;
using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>
/// ELFSharp, an independent reader, agrees with the engine's ELF reader on every module of both
/// trees: sections (name, offset, size) and every .symtab symbol (name, value, raw section index,
/// binding, type). ELFSharp is only used here, as an oracle.
/// </summary>
[Trait("Layer", "Oracle")]
public class ElfSharpOracleTests
{
    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void EngineReaderAgreesWithElfSharp(string flavour)
    {
        var files = KernelFixtures.Load(flavour).ModuleFiles().ToList();
        var problems = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = 2 }, file =>
        {
            var bytes = ModuleFileReader.ReadImage(file);
            var ours = ElfImage.Parse(bytes, file);
            using var theirs = ELFReader.Load<ulong>(new MemoryStream(bytes), true);
            var problem = Compare(ours, theirs);
            if (problem is not null)
                problems.Add($"{file}: {problem}");
        });
        Assert.True(problems.IsEmpty, $"{problems.Count} of {files.Count} differ, e.g.\n" + string.Join("\n", problems.Take(5)));
    }

    private static string? Compare(ElfImage ours, IELF theirs)
    {
        if (ours.Sections.Count != theirs.Sections.Count)
            return $"{ours.Sections.Count} sections vs ELFSharp's {theirs.Sections.Count}";
        for (var i = 0; i < ours.Sections.Count; i++)
        {
            var a = ours.Sections[i];
            var b = (Section<ulong>)theirs.Sections[i];
            if (a.Name != b.Name || a.Offset != b.Offset || a.Size != b.Size)
                return $"section {i}: {a.Name} {a.Offset} {a.Size} vs {b.Name} {b.Offset} {b.Size}";
        }
        var symtab = ours.FindSection(".symtab");
        if (symtab is null)
            return theirs.TryGetSection(".symtab", out _) ? "ELFSharp finds a .symtab we do not" : null;
        var ourSymbols = ours.ReadSymbols(symtab);
        var theirSymbols = ((ISymbolTable)theirs.GetSection(".symtab")).Entries.Cast<SymbolEntry<ulong>>().ToList();
        if (ourSymbols.Length != theirSymbols.Count)
            return $"{ourSymbols.Length} symbols vs {theirSymbols.Count}";
        for (var i = 0; i < ourSymbols.Length; i++)
        {
            var a = ourSymbols[i];
            var b = theirSymbols[i];
            // ELFSharp mislabels SHN_UNDEF as "Absolute" in its enum: compare the raw index.
            if (a.Name != b.Name || a.Value != b.Value || a.SectionIndex != (ushort)b.PointedSectionIndex
                || a.Bind != (byte)b.Binding || a.Type != (byte)b.Type)
                return $"symbol {i}: {a} vs {b.Name} {b.Value} {b.PointedSectionIndex} {b.Binding} {b.Type}";
        }
        return null;
    }
}
