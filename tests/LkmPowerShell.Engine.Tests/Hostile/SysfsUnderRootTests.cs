using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// /sys/module under an untrusted root: a parameter attribute that is a link out of the root, a
/// link to /dev/null or a FIFO is neither read nor written (Set-KernelModuleParameter,
/// Get-KernelModule's Parameters), and nothing hangs.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class SysfsUnderRootTests(ITestOutputHelper output)
{
    private static HostileRoot Root(string kind, out string outsideFile)
    {
        var root = new HostileRoot();
        root.Write("/sys/module/dummy/initstate", "live\n").Write("/sys/module/dummy/parameters/other", "1\n");
        outsideFile = Path.Combine(root.Outside, "victim.conf");
        File.WriteAllText(outsideFile, root.CanaryText + "\n");
        const string attribute = "/sys/module/dummy/parameters/numdummies";
        switch (kind)
        {
            case "link out": root.Symlink(attribute, outsideFile); break;
            case "link to /dev/null": root.Symlink(attribute, "/dev/null"); break;
            case "fifo": root.Fifo(attribute); break;
            case "device": root.Device(attribute); break;
        }
        return root;
    }

    [Theory]
    [InlineData("link out")]
    [InlineData("link to /dev/null")]
    [InlineData("fifo")]
    public void AParameterThatIsNotARegularFileInsideTheRootIsNeitherReadNorWritten(string kind)
    {
        using var root = Root(kind, out var outsideFile);
        var writer = new ModuleParameterWriter(root.SystemRoot);
        var current = Within.Seconds(() => writer.CurrentValue("dummy", "numdummies"));
        var e = Within.Throws<ParameterChangeException>(() => writer.Set("dummy", "numdummies", "7", "int"));
        output.WriteLine($"{kind}: CurrentValue {current ?? "(null)"}; Set: {e.Reason}: {e.Message}");
        Assert.Null(current);
        Assert.Contains("not a regular file", e.Message);
        Assert.Equal(root.CanaryText + "\n", File.ReadAllText(outsideFile));
        root.AssertCanaryUntouched([current, e.Message]);
    }

    [Theory]
    [InlineData("link out")]
    [InlineData("link to /dev/null")]
    [InlineData("fifo")]
    public void GetKernelModulesParametersNeverReadThroughALinkOutOfTheRoot(string kind)
    {
        using var root = Root(kind, out _);
        var parameters = Within.Seconds(() => new SysModuleReader(root.SystemRoot).ReadParameters("dummy"));
        output.WriteLine(string.Join("; ", parameters.Select(p => $"{p.Name}={p.Value} ({p.Problem})")));
        Assert.Equal(["numdummies", "other"], parameters.Select(p => p.Name));
        Assert.Null(parameters[0].Value);
        Assert.Equal("1", parameters[1].Value);
        root.AssertCanaryUntouched(parameters.Select(p => p.Value), parameters.Select(p => p.Problem));
    }

    [Fact]
    public void AModuleFolderLinkedOutOfTheRootIsNotLoaded()
    {
        using var root = new HostileRoot();
        var outside = Directory.CreateDirectory(Path.Combine(root.Outside, "sysmod/parameters")).FullName;
        File.WriteAllText(Path.Combine(outside, "numdummies"), root.CanaryText + "\n");
        root.Write("/sys/module/placeholder", "");
        root.Symlink("/sys/module/dummy", Path.GetDirectoryName(outside)!);
        var e = Within.Throws<ParameterChangeException>(() => new ModuleParameterWriter(root.SystemRoot).Set("dummy", "numdummies", "7", "int"));
        Assert.Equal(ParameterChangeFailure.ModuleNotLoaded, e.Reason);
        Assert.Equal(root.CanaryText + "\n", File.ReadAllText(Path.Combine(outside, "numdummies")));
        Assert.Empty(new SysModuleReader(root.SystemRoot).ReadParameters("dummy"));
    }

    /// <summary>The device case of <see cref="AParameterThatIsNotARegularFileInsideTheRootIsNeitherReadNorWritten"/>: planting a device needs CAP_MKNOD (root), so it is in the privileged layer.</summary>
    [Fact]
    [Trait("Layer", "Privileged")]
    public void AParameterThatIsNotARegularFileInsideTheRootIsNeitherReadNorWritten_Device() => AParameterThatIsNotARegularFileInsideTheRootIsNeitherReadNorWritten("device");

    /// <summary>The device case of <see cref="GetKernelModulesParametersNeverReadThroughALinkOutOfTheRoot"/>: planting a device needs CAP_MKNOD (root), so it is in the privileged layer.</summary>
    [Fact]
    [Trait("Layer", "Privileged")]
    public void GetKernelModulesParametersNeverReadThroughALinkOutOfTheRoot_Device() => GetKernelModulesParametersNeverReadThroughALinkOutOfTheRoot("device");
}
