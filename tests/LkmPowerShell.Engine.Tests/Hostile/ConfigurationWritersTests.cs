using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Planner;
using Xunit;
using Xunit.Abstractions;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// The files the project writes itself under an untrusted root (Disable/Enable's modprobe.d file,
/// -Persist's modules-load.d and modprobe.d files): written and deleted only inside the root, never
/// through a link, never hanging on a FIFO or reading /dev/zero, and nothing lost to a concurrent writer.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class ConfigurationWritersTests(ITestOutputHelper output)
{
    private const string DisabledFile = ModuleDisabler.FileName;

    private static string Victim(HostileRoot root) => Directory.CreateDirectory(Path.Combine(root.Outside, "victim")).FullName;

    private static T? Quietly<T>(Func<T> call) where T : class
    {
        try { return call(); }
        catch (IOException) { return null; }
    }

    [Fact]
    public void DisableAndEnableNeverWriteOrDeleteThroughAFolderLinkedOutOfTheRoot()
    {
        using var root = new HostileRoot();
        var victim = Victim(root);
        root.Symlink("/etc/modprobe.d", victim);
        var disabler = new ModuleDisabler(root.SystemRoot);
        Within.Seconds(() => Quietly(() => disabler.Disable("cramfs")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(victim));

        File.WriteAllText(Path.Combine(victim, DisabledFile), ModuleDisabler.Render(["cramfs"]));
        Within.Seconds(() => Quietly(() => disabler.Enable("cramfs")));
        Assert.True(File.Exists(Path.Combine(victim, DisabledFile)), "Enable deleted a file outside the root");
        root.AssertCanaryUntouched();
    }

    [Fact]
    public void ALinkThroughUsrDotDotIsWrittenInsideTheRootAndStatusReadsWhatWasWritten()
    {
        using var root = new HostileRoot();
        var victim = Victim(root);
        // The kernel resolves "/usr/../<victim>" from the host's root, reaching <victim> outside;
        // as if chrooted, <root>/usr -> a/b/c makes it <root>/a/b/<victim>.
        var contained = Path.Join(root.Root, "a/b", victim);
        Directory.CreateDirectory(Path.Combine(root.Root, "a/b/c"));
        Directory.CreateDirectory(contained);
        root.Symlink("/usr", "a/b/c").Symlink("/etc/modprobe.d", "/usr/.." + victim);

        var status = Within.Seconds(() => new ModuleDisabler(root.SystemRoot).Disable("cramfs"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(victim));
        Assert.True(File.Exists(Path.Combine(contained, DisabledFile)));
        Assert.True(status.Compliant, $"status read another folder than the one written: {status} {status.Note}");
        Assert.Equal(["cramfs"], new ModuleDisabler(root.SystemRoot).DisabledModules());

        var enabled = new ModuleDisabler(root.SystemRoot).Enable("cramfs");
        Assert.Equal(DisableChange.Deleted, enabled.Change);
        Assert.False(File.Exists(Path.Combine(contained, DisabledFile)));
    }

    [Fact]
    public void PersistAndUnpersistNeverWriteOrDeleteThroughAFolderLinkedOutOfTheRoot()
    {
        using var root = new HostileRoot();
        var victim = Victim(root);
        root.Symlink("/etc/modules-load.d", victim).Symlink("/etc/modprobe.d", victim);
        var persistence = new ModulePersistence(root.SystemRoot);
        Within.Seconds(() => Quietly(() => persistence.Persist("dummy", ModuleParameters.Parse("numdummies=3"))));
        Assert.Empty(Directory.EnumerateFileSystemEntries(victim));

        File.WriteAllText(Path.Combine(victim, "dummy.conf"), ModulePersistence.DefaultHeader + "\ndummy\n");
        Within.Seconds(() => Quietly(() => persistence.Unpersist("dummy")));
        Assert.True(File.Exists(Path.Combine(victim, "dummy.conf")), "Unpersist deleted a file outside the root");
    }

    [Fact]
    public void TheProjectsOwnFileLinkedOutIsNeitherReadNorReplacedNorDeleted()
    {
        using var root = new HostileRoot();
        var outsideFile = Path.Combine(Victim(root), "theirs.conf");
        File.WriteAllText(outsideFile, ModuleDisabler.Render(["cramfs"]));
        root.Symlink($"/etc/modprobe.d/{DisabledFile}", outsideFile).Symlink("/etc/modules-load.d/dummy.conf", outsideFile);
        var disabler = new ModuleDisabler(root.SystemRoot);
        Assert.ThrowsAny<IOException>(() => disabler.DisabledModules());
        Assert.ThrowsAny<IOException>(() => disabler.Enable("cramfs"));
        Assert.ThrowsAny<IOException>(() => disabler.Disable("udf"));
        Assert.ThrowsAny<IOException>(() => new ModulePersistence(root.SystemRoot).Unpersist("dummy"));
        Assert.Equal(ModuleDisabler.Render(["cramfs"]), File.ReadAllText(outsideFile));
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("zero")]
    public void AFifoOrDevZeroInPlaceOfTheProjectsFilesIsRefusedAtOnce(string kind)
    {
        using var root = new HostileRoot();
        foreach (var file in new[] { $"/etc/modprobe.d/{DisabledFile}", "/etc/modules-load.d/dummy.conf", "/etc/modprobe.d/dummy.conf" })
            if (kind == "fifo") root.Fifo(file); else if (kind == "device") root.Device(file); else root.Symlink(file, "/dev/zero");
        var disabler = new ModuleDisabler(root.SystemRoot);
        var persistence = new ModulePersistence(root.SystemRoot);
        var calls = new (string What, Func<object?> Call)[]
        {
            ("DisabledModules (Disable -WhatIf)", () => disabler.DisabledModules()),
            ("Disable", () => disabler.Disable("cramfs")),
            ("Enable", () => disabler.Enable("cramfs")),
            ("PreviewPersist (Import -Persist -WhatIf)", () => persistence.PreviewPersist("dummy", ModuleParameters.Parse("numdummies=3"))),
            ("PreviewUnpersist (Remove -Persist -WhatIf)", () => persistence.PreviewUnpersist("dummy")),
            ("Persist", () => persistence.Persist("dummy")),
            ("Unpersist", () => persistence.Unpersist("dummy")),
        };
        foreach (var (what, call) in calls)
        {
            var e = Within.Throws<IOException>(call);
            output.WriteLine($"{what}: {e.GetType().Name}: {e.Message}");
            Assert.DoesNotContain(".tmp", e.Message);
        }
        var after = Directory.EnumerateFileSystemEntries(root.At("/etc/modprobe.d")).Concat(Directory.EnumerateFileSystemEntries(root.At("/etc/modules-load.d")));
        Assert.Equal(3, after.Count());
    }

    /// <summary>Parallel writers of one file, each in its own thread with its own objects (as ForEach-Object -Parallel runs them).</summary>
    [Fact]
    public async Task ConcurrentDisableAndEnableLoseNothing()
    {
        const int Rounds = 10, Writers = 6;
        var lost = 0;
        for (var round = 0; round < Rounds; round++)
        {
            using var root = new HostileRoot();
            Directory.CreateDirectory(root.At("/etc/modprobe.d"));
            new ModuleDisabler(root.SystemRoot).Disable("keep_me_0");
            new ModuleDisabler(root.SystemRoot).Disable("enable_me_0");
            using var start = new Barrier(Writers);
            var tasks = Enumerable.Range(0, Writers).Select(i => Task.Factory.StartNew(() =>
            {
                var disabler = new ModuleDisabler(root.SystemRoot);
                start.SignalAndWait();
                if (i == 0) disabler.Enable("enable_me_0");
                else disabler.Disable($"new_{i}");
            }, TaskCreationOptions.LongRunning)).ToArray();
            await Task.WhenAll(tasks);
            var expected = new[] { "keep_me_0" }.Concat(Enumerable.Range(1, Writers - 1).Select(i => $"new_{i}")).Order().ToList();
            var actual = new ModuleDisabler(root.SystemRoot).DisabledModules().Order().ToList();
            if (!expected.SequenceEqual(actual))
            {
                lost++;
                output.WriteLine($"round {round}: expected {string.Join(",", expected)}, got {string.Join(",", actual)}");
            }
            Assert.Empty(Directory.EnumerateFiles(root.At("/etc/modprobe.d"), ".*"));
        }
        output.WriteLine($"{Rounds} rounds of {Writers} parallel writers: {lost} lost an update");
        Assert.Equal(0, lost);
    }

    [Fact]
    public async Task ConcurrentPersistOfOneModuleEndsWithOneWholeFile()
    {
        const int Rounds = 10, Writers = 6;
        for (var round = 0; round < Rounds; round++)
        {
            using var root = new HostileRoot();
            var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
            using var start = new Barrier(Writers);
            var tasks = Enumerable.Range(0, Writers).Select(i => Task.Factory.StartNew(() =>
            {
                var persistence = new ModulePersistence(root.SystemRoot);
                start.SignalAndWait();
                try { persistence.Persist(i % 2 == 0 ? "dummy" : "loop", ModuleParameters.Parse($"n={i}")); }
                catch (Exception e) { errors.Add(e); }
            }, TaskCreationOptions.LongRunning)).ToArray();
            await Task.WhenAll(tasks);
            Assert.Empty(errors);
            foreach (var m in new[] { "dummy", "loop" })
            {
                Assert.Matches($"^# Written by LkmPowerShell[^\n]*\noptions {m} n=[0-9]\n$", File.ReadAllText(root.At($"/etc/modprobe.d/{m}.conf")));
                Assert.Equal(ModulePersistence.DefaultHeader + $"\n{m}\n", File.ReadAllText(root.At($"/etc/modules-load.d/{m}.conf")));
            }
            Assert.Empty(Directory.EnumerateFiles(root.At("/etc/modprobe.d"), ".*"));
        }
    }

    /// <summary>The device case of <see cref="AFifoOrDevZeroInPlaceOfTheProjectsFilesIsRefusedAtOnce"/>: planting a device needs CAP_MKNOD (root), so it is in the privileged layer.</summary>
    [Fact]
    [Trait("Layer", "Privileged")]
    public void AFifoOrDevZeroInPlaceOfTheProjectsFilesIsRefusedAtOnce_Device() => AFifoOrDevZeroInPlaceOfTheProjectsFilesIsRefusedAtOnce("device");
}
