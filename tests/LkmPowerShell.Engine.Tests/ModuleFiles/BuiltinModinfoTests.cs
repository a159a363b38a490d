using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>
/// A built-in module's modinfo (kmod prints it from modules.builtin.modinfo, "filename: (builtin)"),
/// byte for byte against <c>modinfo -b ROOT -k VER NAME</c> for every built-in module of both trees.
/// </summary>
[Trait("Layer", "Oracle")]
public class BuiltinModinfoTests
{
    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void EveryBuiltinModuleMatchesKmod(string flavour)
    {
        var kernel = KernelFixtures.Load(flavour);
        var tree = ModuleDirectory.Open(new SystemRoot(kernel.Root), kernel.Version);
        // A built-in name that is also an installed module's alias (crc32: crc32_pclmul's) is
        // answered by modules.alias first in kmod's lookup order, so modinfo shows those files.
        var names = tree.BuiltinModules().Where(n => tree.ResolveAlias(n).Count == 0).ToList();
        Assert.True(names.Count > 100, $"only {names.Count} built-in modules");
        Assert.True(tree.BuiltinModules().Count - names.Count < 5, "more built-in names than expected are aliases of installed modules");
        // modinfo prints the records of several names one after the other.
        var expected = KmodOracle.Run("modinfo", ["-b", kernel.Root, "-k", kernel.Version, .. names]);
        var ours = string.Concat(names.Select(n => ModinfoText.Format(tree.FindBuiltinModule(n)!)));
        Assert.Equal(expected, ours);
        var zeroExpected = KmodOracle.Run("modinfo", ["-0", "-b", kernel.Root, "-k", kernel.Version, .. names.Take(20)]);
        Assert.Equal(zeroExpected, string.Concat(names.Take(20).Select(n => ModinfoText.Format(tree.FindBuiltinModule(n)!, '\0'))));
    }

    [Theory]
    [InlineData("license")]
    [InlineData("parm")]
    [InlineData("filename")]
    [InlineData("name")]
    [InlineData("alias")]
    public void FieldsMatchKmod(string field)
    {
        var kernel = KernelFixtures.Plain;
        var tree = ModuleDirectory.Open(new SystemRoot(kernel.Root), kernel.Version);
        foreach (var name in new[] { "zswap", "unix", "iosf_mbi", "libblake2s_x86_64" })
        {
            var expected = KmodOracle.Run("modinfo", ["-F", field, "-b", kernel.Root, "-k", kernel.Version, name]);
            var ours = string.Concat(ModinfoText.Field(tree.FindBuiltinModule(name)!, field).Select(v => v + "\n"));
            Assert.True(expected == ours, $"{name} -F {field}: kmod '{expected}', ours '{ours}'");
        }
    }

    [Fact]
    public void KmodsOwnBuiltinCaseMatches()
    {
        // kmod's testsuite case test_modinfo_builtin, rebuilt here with the host's kmod as the
        // oracle: a built-in with a parameter that has both a description and a type, a tree with
        // no module files at all (depmod writes modules.builtin.bin from modules.builtin).
        var root = Directory.CreateTempSubdirectory("lkm-builtin-").FullName;
        try
        {
            var dir = Directory.CreateDirectory(Path.Join(root, "lib/modules/6.11.0")).FullName;
            File.WriteAllText(Path.Join(dir, "modules.builtin"), "kernel/arch/x86/events/intel/intel-uncore.ko\n");
            File.WriteAllText(Path.Join(dir, "modules.builtin.modinfo"), string.Concat(new[]
            {
                "intel_uncore.license=GPL", "intel_uncore.file=arch/x86/events/intel/intel-uncore",
                "intel_uncore.description=Support for Intel uncore performance events",
                "intel_uncore.parm=uncore_no_discover:Don't enable the discovery mechanism.", "intel_uncore.parmtype=uncore_no_discover:bool",
            }.Select(r => r + "\0")));
            KmodOracle.Run("depmod", ["-b", root, "6.11.0"]);
            var tree = ModuleDirectory.Open(new SystemRoot(root), "6.11.0");
            var expected = KmodOracle.Run("modinfo", ["-b", root, "-k", "6.11.0", "intel_uncore"]);
            Assert.Contains("parm:           uncore_no_discover:Don't enable the discovery mechanism. (bool)\n", expected);
            Assert.Equal(expected, ModinfoText.Format(tree.FindBuiltinModule("intel-uncore")!));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void OnlyBuiltinNamesHaveBuiltinInfo()
    {
        var kernel = KernelFixtures.Plain;
        var tree = ModuleDirectory.Open(new SystemRoot(kernel.Root), kernel.Version);
        Assert.Null(tree.FindBuiltinModule("msdos"));
        Assert.Null(tree.FindBuiltinModule("no_such_module"));
        var blake = tree.FindBuiltinModule("libblake2s-x86_64")!;
        Assert.Equal("libblake2s_x86_64", blake.Name);
        Assert.Equal("GPL v2", blake.GetValue("license"));
    }
}
