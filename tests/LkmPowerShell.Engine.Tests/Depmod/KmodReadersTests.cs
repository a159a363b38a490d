using System.Diagnostics;
using LkmPowerShell.Engine.Depmod;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>kmod's own readers (modprobe, modinfo) answer the same on the engine's files as on depmod's.</summary>
[Trait("Layer", "Oracle")]
public class KmodReadersTests
{
    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void ModprobeAndModinfoAgree(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        using var temp = new TempDirectory();
        // A copy of the tree whose module files are hard links to the fixture's: the engine writes
        // its index into it in place, as depmod would.
        var root = Path.Combine(temp.Path, "root");
        var modules = Path.Combine(root, "lib/modules", kernel.Version);
        Directory.CreateDirectory(modules);
        Run("cp", "-al", Path.Combine(kernel.ModulesDirectory, "kernel"), modules);
        foreach (var name in new[] { "modules.order", "modules.builtin", "modules.builtin.modinfo" })
            File.Copy(Path.Combine(kernel.ModulesDirectory, name), Path.Combine(modules, name));
        DepmodRunner.Run(new DepmodOptions { Root = new SystemRoot(root), KernelVersion = kernel.Version, ConfigPaths = [], UseCache = false, Layout = IndexLayout.PreOrder });

        string[][] queries =
        [
            ["--show-depends", "msdos"], ["--show-depends", "vfat"], ["--show-depends", "ext4"], ["--show-depends", "9p"],
            ["-R", "fs-msdos"], ["-R", "symbol:fat_time_unix2fat"], ["-R", "char-major-10-229"], ["--show-depends", "usb:v0781p5567d0100dc00dsc00dp00ic08isc06ip50in00"],
        ];
        foreach (var q in queries)
        {
            var expected = Run("modprobe", ["-d", kernel.Root, "-S", kernel.Version, .. q]).Replace(kernel.Root, "ROOT");
            var actual = Run("modprobe", ["-d", root, "-S", kernel.Version, .. q]).Replace(root, "ROOT");
            Assert.Equal(expected, actual);
            Assert.NotEqual("", actual);
        }
        var info = Run("modinfo", "-b", root, "-k", kernel.Version, "-F", "depends", "msdos");
        Assert.Equal("fat\n", info);
    }

    private static string Run(string program, params string[] arguments)
    {
        var psi = new ProcessStartInfo(ModuleFiles.CodecTools.Find(program)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {err.Result}");
        return output;
    }
}
