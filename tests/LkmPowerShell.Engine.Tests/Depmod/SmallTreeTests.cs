using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.Tests.TestKit;
using Xunit;
using Need = LkmPowerShell.Engine.Tests.TestKit.ModuleWriter.Need;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>
/// Small trees written by the test kit (and modules of the synthetic tree) that exercise what the
/// Debian trees do not: missing builtin files, weak symbols, symbol checks, cycles, a missing
/// version folder. Each runs kmod 30's depmod and the engine on the same files and compares every
/// output byte; no fixture is needed.
/// </summary>
public class SmallTreeTests
{
    [Fact]
    public void MissingBuiltinFilesGiveEmptyIndexes()
    {
        using var tree = new DepmodTree();
        tree.Synthetic("kernel/fs/fat/fat.ko").Synthetic("kernel/fs/fat/msdos.ko");
        var (engine, stderr) = tree.AssertSameAsKmod();
        Assert.Contains("modules.builtin", stderr);
        Assert.Empty(File.ReadAllBytes(Path.Combine(tree.OutputDirectory, "modules.builtin.bin")));
        Assert.Empty(File.ReadAllBytes(Path.Combine(tree.OutputDirectory, "modules.builtin.alias.bin")));
        Assert.Empty(File.ReadAllBytes(Path.Combine(tree.OutputDirectory, "modules.devname")));
        Assert.Contains(engine.Warnings, w => w.Kind == DepmodWarningKind.InputFile && w.Module!.EndsWith("modules.builtin", StringComparison.Ordinal));
    }

    [Fact]
    public void WeakSymbolsMakeDependenciesAndNoWarnings()
    {
        using var tree = new DepmodTree().WithSyntheticBuiltins();
        tree.Write("kernel/a.ko", ModuleWriter.Build("a", [("a_one", 0x1111), ("a_two", 0x2222)], [new Need("printk", Crc: 0x99)], ["alias=a-alias", "license=GPL"]))
            .Write("kernel/b.ko", ModuleWriter.Build("b", [("b_one", 1)], [new Need("a_one", Weak: true)], ["alias=char-major-10-77", "alias=devname:bee"]))
            .Write("kernel/c.ko", ModuleWriter.Build("c", [], [new Need("b_one"), new Need("nobody_exports_this", Weak: true), new Need("missing_strong", Crc: 5)], ["softdep=pre: a", "weakdep=b"]))
            .Write("kernel/d-dash.ko", ModuleWriter.Build("d_dash", [("a_two", 7)], [], ["alias=pci:v0000[1-2]d*"]));
        var systemMap = Path.Combine(tree.Root, "System.map");
        File.WriteAllText(systemMap, "ffffffff81000000 T printk\nffffffff82000000 r __ksymtab_printk\n");
        var (engine, stderr) = tree.AssertSameAsKmod(o => o with { SystemMapPath = systemMap }, "-e", "-F", systemMap);
        var dep = tree.EngineFile("modules.dep");
        Assert.Contains("kernel/b.ko: kernel/a.ko", dep);
        Assert.Contains("kernel/c.ko: kernel/b.ko kernel/a.ko", dep);
        // a_two is exported by both a and d-dash: the later module in kmod's order owns it.
        var unknown = engine.Warnings.Where(w => w.Kind == DepmodWarningKind.UnknownSymbol).Select(w => w.Symbol).ToList();
        Assert.Equal(["missing_strong"], unknown);
        Assert.Contains("needs unknown symbol missing_strong", stderr);
        Assert.DoesNotContain("nobody_exports_this", stderr);
        Assert.Contains("weakdep c b", tree.EngineFile("modules.weakdep"));
        Assert.Contains("b bee c10:77", tree.EngineFile("modules.devname"));
    }

    [Fact]
    public void SymversChecksVersions()
    {
        using var tree = new DepmodTree();
        tree.Write("kernel/a.ko", ModuleWriter.Build("a", [("a_one", 0x1111)], [new Need("printk", Crc: 0x99), new Need("kfree", Crc: 0x42)], []))
            .Write("kernel/b.ko", ModuleWriter.Build("b", [], [new Need("a_one", Crc: 0x1112), new Need("kfree", Weak: true, Crc: 1)], []));
        var symvers = Path.Combine(tree.Root, "Module.symvers");
        File.WriteAllText(symvers, "0x00000099\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n0x00000041\tkfree\tvmlinux\tEXPORT_SYMBOL\t\n0x00000001\tother\tsomemodule\tEXPORT_SYMBOL\t\n");
        var (engine, stderr) = tree.AssertSameAsKmod(o => o with { SymVersPath = symvers }, "-e", "-E", symvers);
        var mismatches = engine.Warnings.Where(w => w.Kind == DepmodWarningKind.VersionMismatch).Select(w => $"{Path.GetFileName(w.Module)} {w.Symbol}").Order().ToList();
        Assert.Equal(["a.ko kfree", "b.ko a_one"], mismatches);
        Assert.Contains("a.ko disagrees about version of symbol kfree", stderr);
        Assert.Contains("b.ko disagrees about version of symbol a_one", stderr);
    }

    [Fact]
    public void CycleIsAnErrorAndNothingIsWritten()
    {
        using var tree = new DepmodTree();
        tree.Write("kernel/a.ko", ModuleWriter.Build("a", [("a_sym", 1)], [new Need("b_sym")], []))
            .Write("kernel/b.ko", ModuleWriter.Build("b", [("b_sym", 2)], [new Need("c_sym")], []))
            .Write("kernel/c.ko", ModuleWriter.Build("c", [("c_sym", 3)], [new Need("a_sym")], []))
            .Write("kernel/d.ko", ModuleWriter.Build("d", [], [new Need("a_sym")], []));
        Directory.CreateDirectory(tree.OutputDirectory);
        File.WriteAllText(Path.Combine(tree.OutputDirectory, "modules.dep"), "old\n");
        var error = Assert.Throws<DependencyCycleException>(() => tree.RunEngine());
        var (code, stderr) = tree.RunKmod();
        Assert.Equal(1, code);
        var kmodLines = stderr.Split('\n').Where(l => l.Contains("Cycle detected") || l.Contains("dependency cycles"))
            .Select(l => l[(l.IndexOf("ERROR: ", StringComparison.Ordinal) + 7)..]).ToList();
        Assert.Equal(2, kmodLines.Count); // one cycle, then the count
        Assert.Equal(kmodLines, error.Message.Split('\n').Take(kmodLines.Count));
        Assert.Equal(3, error.ModuleCount);
        Assert.Equal("old\n", File.ReadAllText(Path.Combine(tree.OutputDirectory, "modules.dep")));
        Assert.False(File.Exists(Path.Combine(tree.ModulesDirectory, "modules.dep")));
        Assert.Single(Directory.GetFiles(tree.OutputDirectory));
    }

    /// <summary>
    /// kmod's own testcase depmod_detect_loop (testsuite/module-playground/mod-loop-*.c, with an
    /// empty modules.order): three cycles, a -> b -> c reported from mod_loop_c, as its
    /// correct.txt says, and the same lines as the installed kmod prints.
    /// </summary>
    [Fact]
    public void CyclesAreReportedFromWhereKmodStartsThem()
    {
        var uses = new Dictionary<char, string>
        {
            ['a'] = "bfg", ['b'] = "cfg", ['c'] = "a", ['d'] = "e", ['e'] = "d", ['f'] = "", ['g'] = "",
            ['h'] = "i", ['i'] = "j", ['j'] = "hk", ['k'] = "h",
        };
        using var tree = new DepmodTree("4.4.4");
        foreach (var (m, needs) in uses)
            tree.Write($"kernel/mod-loop-{m}.ko", ModuleWriter.Build($"mod_loop_{m}", [($"print{char.ToUpperInvariant(m)}", 1)],
                needs.Select(n => new Need($"print{char.ToUpperInvariant(n)}")), []));
        tree.Write("modules.order", "");
        var error = Assert.Throws<DependencyCycleException>(() => tree.RunEngine());
        string[] kmodCorrect =
        [
            "Cycle detected: mod_loop_d -> mod_loop_e -> mod_loop_d",
            "Cycle detected: mod_loop_i -> mod_loop_j -> mod_loop_k -> mod_loop_h -> mod_loop_i",
            "Cycle detected: mod_loop_i -> mod_loop_j -> mod_loop_h -> mod_loop_i",
            "Cycle detected: mod_loop_c -> mod_loop_a -> mod_loop_b -> mod_loop_c",
            "Found 9 modules in dependency cycles!",
        ];
        var (_, stderr) = tree.RunKmod();
        var installed = stderr.Split('\n').Where(l => l.Contains("Cycle detected") || l.Contains("dependency cycles"))
            .Select(l => l[(l.IndexOf("ERROR: ", StringComparison.Ordinal) + 7)..]).ToList();
        Assert.Equal(installed, error.Message.Split('\n').Take(installed.Count));
        Assert.Equal(kmodCorrect.Order(StringComparer.Ordinal), error.Message.Split('\n').Take(kmodCorrect.Length).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MissingVersionFolderIsAClearError()
    {
        using var tree = new DepmodTree();
        var e = Assert.Throws<LkmPowerShell.Engine.ModuleTree.KernelNotInstalledException>(() =>
            DepmodRunner.Run(new DepmodOptions { Root = new SystemRoot(tree.Root), KernelVersion = "9.9.9-nothere" }));
        Assert.Contains("9.9.9-nothere", e.Message);
        Assert.Contains(tree.Version, e.Message);
    }
}
