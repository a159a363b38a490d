using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.Planner;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// A configuration folder of an untrusted image that is a symbolic link out of it
/// (ROOT/etc/modprobe.d -> a folder beside the root) is resolved inside the root, as if chrooted:
/// neither the outside folder's file names nor their contents reach the configuration.
/// </summary>
[Collection(nameof(SafeFileResolutionCollection))]
public sealed class LinkedFolderTests
{
    private static string OutsideFolder(HostileRoot root, string name, string text)
    {
        var folder = Path.Combine(root.Outside, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "outside-CANARY-file.conf"), text);
        return folder;
    }

    [Fact]
    public void ModprobeDLinkedOutOfTheRootListsNothingFromOutside()
    {
        using var root = new HostileRoot();
        var outside = OutsideFolder(root, "host-modprobe.d", "blacklist canary_module\nalias canary-alias canary_module\n");
        root.Symlink("/etc/modprobe.d", outside);
        var config = Within.Seconds(() => ModprobeConfig.Load(root.SystemRoot, null, ""));
        Assert.DoesNotContain(config.Blacklist, b => b.Module == "canary_module");
        Assert.DoesNotContain(config.Warnings, w => w.ToString().Contains("CANARY"));
    }

    [Fact]
    public void ModprobeDLinkedInsideTheRootStillWorks()
    {
        using var root = new HostileRoot();
        root.Write("/usr/share/modprobe.d/a.conf", "blacklist pcspkr\n").Symlink("/etc/modprobe.d", "/usr/share/modprobe.d");
        var config = Within.Seconds(() => ModprobeConfig.Load(root.SystemRoot, null, ""));
        Assert.Contains(config.Blacklist, b => b.Module == "pcspkr");
    }

    [Fact]
    public void DepmodDLinkedOutOfTheRootIsNotRead()
    {
        using var root = new HostileRoot();
        var outside = OutsideFolder(root, "host-depmod.d", "override canary_module * CANARY\n");
        root.Symlink("/etc/depmod.d", outside);
        var resolved = root.SystemRoot.ResolveFolder("/etc/depmod.d");
        Assert.StartsWith(root.Root + "/", resolved);
        var config = DepmodConfiguration.Load([resolved], HostileRoot.Version, _ => { }, root.SystemRoot);
        Assert.Empty(config.Files);
    }

    [Fact]
    public void ModulesLoadDLinkedOutOfTheRootListsNothingFromOutside()
    {
        using var root = new HostileRoot();
        var outside = OutsideFolder(root, "host-modules-load.d", "canary_module\n");
        root.Symlink("/etc/modules-load.d", outside);
        var entries = BootModuleList.Read(root.SystemRoot, null, "");
        Assert.DoesNotContain(entries, e => e.Name.Contains("canary"));
    }
}
