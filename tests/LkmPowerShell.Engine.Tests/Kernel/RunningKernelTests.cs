using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Kernel;

public class RunningKernelTests
{
    private static FakeKernelRoot Guest() => new FakeKernelRoot()
        .File("/proc/sys/kernel/osrelease", "6.1.0-99-amd64\n")
        .File("/proc/sys/kernel/tainted", "12288\n")
        // /proc/modules' size is every region since 6.4; lsmod prints coresize.
        .File("/proc/modules",
            "msdos 20480 0 - Live 0xffffffffc0a1b000\n" +
            "fat 90112 1 msdos, Live 0xffffffffc09f0000\n" +
            "gone 16384 3 x,y, Unloading 0xffffffffc0a00000 (OE-)\n")
        .LoadedModule("msdos", coresize: 16384)
        .LoadedModule("fat", refcnt: 1, coresize: 81920, holders: ["msdos"],
            parameters: new Dictionary<string, string> { ["debug"] = "N" }, version: "3.0")
        .File("/sys/module/printk/parameters/time", "Y\n");

    [Fact]
    public void LoadedModulesTakeEachFigureWhereLsmodDoes()
    {
        using var root = Guest();
        var kernel = new RunningKernel(root.Root);
        Assert.True(kernel.SupportsModules);
        Assert.Null(kernel.ModulesUnsupportedReason);

        var mods = kernel.GetLoadedModules();
        Assert.Equal(["msdos", "fat", "gone"], mods.Select(m => m.Name));   // /proc/modules order

        var fat = mods[1];
        Assert.Equal(81920, fat.Size);           // coresize, not the /proc/modules 90112
        Assert.Equal(90112, fat.TotalSize);
        Assert.Equal(1, fat.ReferenceCount);
        Assert.Equal(["msdos"], fat.UsedBy);
        Assert.Equal("3.0", fat.Version);
        Assert.Equal("N", fat.Parameters["debug"]);
        Assert.Equal("0xffffffffc09f0000", fat.AddressHex);
        Assert.False(fat.IsBuiltin);

        // Unloaded between the two reads: no sysfs directory, so the /proc/modules figures stand.
        var gone = mods[2];
        Assert.Equal(16384, gone.Size);
        Assert.Equal(3, gone.ReferenceCount);
        Assert.Equal(["x", "y"], gone.UsedBy);
        Assert.Equal(ModuleState.Unloading, gone.State);
        Assert.Equal("OE", gone.Taints);

        Assert.Equal("fat", kernel.GetLoadedModule("fat")!.Name);
        Assert.Null(kernel.GetLoadedModule("vfat"));
    }

    [Fact]
    public void BuiltinsComeFromSysModuleOnly()
    {
        using var root = Guest();
        var b = Assert.Single(new RunningKernel(root.Root).GetBuiltinModules());
        Assert.Equal("printk", b.Name);
        Assert.True(b.IsBuiltin);
        Assert.Equal(ModuleState.Builtin, b.State);
        Assert.Null(b.Size);
        Assert.Equal("Y", b.Parameters["time"]);
    }

    [Fact]
    public void ReleaseAndTaintComeFromProcUnderTheRoot()
    {
        using var root = Guest();
        var kernel = new RunningKernel(root.Root);
        Assert.Equal("6.1.0-99-amd64", kernel.Release);
        Assert.Equal("OE", kernel.Tainted!.Letters);
    }

    [Fact]
    public void KernelWithoutModulesSaysSoPlainly()
    {
        using var root = new FakeKernelRoot()
            .File("/proc/sys/kernel/osrelease", "6.18.0-nomod\n")
            .File("/sys/module/printk/parameters/time", "Y\n");
        var kernel = new RunningKernel(root.Root);
        Assert.False(kernel.SupportsModules);
        var ex = Assert.Throws<KernelModulesUnsupportedException>(kernel.GetLoadedModules);
        Assert.Equal(
            $"This kernel (6.18.0-nomod) has no loadable-module support: {root.Path}/proc/modules does not exist.",
            ex.Message);
        Assert.Equal(ex.Message, kernel.ModulesUnsupportedReason);
        Assert.Equal("6.18.0-nomod", ex.Release);
        Assert.Throws<KernelModulesUnsupportedException>(() => kernel.GetLoadedModule("fat"));
        // Built-ins are still there to list.
        Assert.Single(kernel.GetBuiltinModules());
    }

    [Fact]
    public void RootWithoutProcIsNotCalledAKernelWithoutModules()
    {
        using var root = new FakeKernelRoot();
        var kernel = new RunningKernel(root.Root);
        Assert.Contains("not a mounted procfs", kernel.ModulesUnsupportedReason);
        Assert.Null(kernel.Release);
        Assert.Null(kernel.Tainted);
    }

    [Fact]
    public void TheHostKernel()
    {
        var kernel = RunningKernel.Host;
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), kernel.Release);
        Assert.Equal(ulong.Parse(File.ReadAllText("/proc/sys/kernel/tainted")), kernel.Tainted!.Value);

        if (!File.Exists("/proc/modules"))
        {
            // This build machine: a kernel built without CONFIG_MODULES.
            Assert.False(kernel.SupportsModules);
            var ex = Assert.Throws<KernelModulesUnsupportedException>(kernel.GetLoadedModules);
            Assert.Equal($"This kernel ({kernel.Release}) has no loadable-module support: /proc/modules does not exist.", ex.Message);
        }
        else
        {
            // Inside the QEMU bench: every /proc/modules line becomes one module, in order.
            var names = File.ReadAllLines("/proc/modules").Select(l => l.Split(' ')[0]).ToList();
            Assert.Equal(names, kernel.GetLoadedModules().Select(m => m.Name));
        }
        Assert.All(kernel.GetBuiltinModules(), m => Assert.True(m.IsBuiltin));
    }
}
