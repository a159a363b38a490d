using LkmPowerShell.Engine.Audit;
using LkmPowerShell.Engine.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// Test-KernelModule's saved kernel log (dev/kmsg) and vmallocinfo, Get-KernelModuleBootEntry's
/// lists and -AsText's index dump under an untrusted root: a FIFO, /dev/zero or a link out of the
/// root in their place gives a problem or warning at once, bounded, never the outside file's text.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class AuditReadersUnderRootTests(ITestOutputHelper output)
{
    private static HostileRoot Plant(string systemPath, string kind)
    {
        var root = new HostileRoot();
        switch (kind)
        {
            case "fifo": root.Fifo(systemPath); break;
            case "zero": root.Symlink(systemPath, "/dev/zero"); break;
            case "link out": root.Symlink(systemPath, root.CanaryPath); break;
            case "device": root.Device(systemPath); break;
        }
        return root;
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("zero")]
    [InlineData("link out")]
    public void TheSavedKernelLogIsReadInsideTheRootAsARegularFileOnly(string kind)
    {
        using var root = Plant(KernelLogSource.SystemPath, kind);
        string? problem = null;
        var lines = Within.Seconds(() => KernelLogSource.Read(root.SystemRoot, out problem));
        output.WriteLine($"{kind}: {problem}");
        Assert.Null(lines);
        Assert.NotNull(problem);
        root.AssertCanaryUntouched([problem]);
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("zero")]
    [InlineData("link out")]
    public void VmallocinfoIsReadInsideTheRootAsARegularFileOnly(string kind)
    {
        using var root = Plant(ModuleMemoryReader.SystemPath, kind);
        string? problem = null;
        var areas = Within.Seconds(() => ModuleMemoryReader.Read(root.SystemRoot, out problem));
        output.WriteLine($"{kind}: {problem}");
        Assert.Null(areas);
        Assert.NotNull(problem);
        root.AssertCanaryUntouched([problem]);
    }

    [Theory]
    [InlineData("/etc/modules-load.d/a.conf", "fifo")]
    [InlineData("/etc/modules-load.d/a.conf", "zero")]
    [InlineData("/etc/modules-load.d/a.conf", "link out")]
    [InlineData("/etc/modules", "fifo")]
    [InlineData("/etc/modules", "zero")]
    [InlineData("/etc/modules", "link out")]
    public void BootListsAreReadInsideTheRootAsRegularFilesOnly(string file, string kind)
    {
        using var root = Plant(file, kind);
        root.Write("/etc/modules-load.d/b.conf", "loop\n");
        var warnings = new List<string>();
        var entries = Within.Seconds(() => BootModuleList.Read(root.SystemRoot, null, "", warnings));
        output.WriteLine($"{file} {kind}: {string.Join(", ", entries.Select(e => e.Name))}; {string.Join(" | ", warnings)}");
        Assert.Equal(["loop"], entries.Select(e => e.Name));
        root.AssertCanaryUntouched(entries.Select(e => e.Name), warnings);
    }

    [Fact]
    public void AsTextDumpsTheIndexInsideTheRootNeverOneLinkedOut()
    {
        using var root = new HostileRoot();
        // A real index outside the root: an alias from it in the dump means it was read.
        var outsideIndex = Path.Combine(root.Outside, "modules.alias.bin");
        File.Copy(Path.Combine(TestKit.SyntheticTree.Shared.ModulesDirectory, "modules.alias.bin"), outsideIndex);
        root.Write($"/lib/modules/{HostileRoot.Version}/modules.dep", "");
        root.Symlink($"/lib/modules/{HostileRoot.Version}/modules.alias.bin", outsideIndex);
        var tree = Engine.ModuleTree.ModuleDirectory.Open(root.SystemRoot, HostileRoot.Version);
        var text = Within.Seconds(() => EffectiveConfiguration.ToModprobeText([], tree));
        Assert.DoesNotContain("alias ", text);
    }

    /// <summary>The device case of <see cref="TheSavedKernelLogIsReadInsideTheRootAsARegularFileOnly"/>: planting a device needs CAP_MKNOD (root), so it is in the privileged layer.</summary>
    [Fact]
    [Trait("Layer", "Privileged")]
    public void TheSavedKernelLogIsReadInsideTheRootAsARegularFileOnly_Device() => TheSavedKernelLogIsReadInsideTheRootAsARegularFileOnly("device");

    /// <summary>The device case of <see cref="VmallocinfoIsReadInsideTheRootAsARegularFileOnly"/>: planting a device needs CAP_MKNOD (root), so it is in the privileged layer.</summary>
    [Fact]
    [Trait("Layer", "Privileged")]
    public void VmallocinfoIsReadInsideTheRootAsARegularFileOnly_Device() => VmallocinfoIsReadInsideTheRootAsARegularFileOnly("device");

    /// <summary>The device case of <see cref="BootListsAreReadInsideTheRootAsRegularFilesOnly"/>: planting a device needs CAP_MKNOD (root), so it is in the privileged layer.</summary>
    [Fact]
    [Trait("Layer", "Privileged")]
    public void BootListsAreReadInsideTheRootAsRegularFilesOnly_Device_etc_modules_load_d_a_conf() => BootListsAreReadInsideTheRootAsRegularFilesOnly("/etc/modules-load.d/a.conf", "device");

    /// <summary>The device case of <see cref="BootListsAreReadInsideTheRootAsRegularFilesOnly"/>: planting a device needs CAP_MKNOD (root), so it is in the privileged layer.</summary>
    [Fact]
    [Trait("Layer", "Privileged")]
    public void BootListsAreReadInsideTheRootAsRegularFilesOnly_Device_etc_modules() => BootListsAreReadInsideTheRootAsRegularFilesOnly("/etc/modules", "device");
}
