using LkmPowerShell.Engine.Planner;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Planner;

public class ModulePersistenceTests
{
    [Fact]
    public void WritesIdempotentlyAndRemovesOnlyItsOwnFiles()
    {
        using var root = new Kernel.FakeKernelRoot();
        var persistence = new ModulePersistence(root.Root);
        var first = persistence.Persist("dummy", ModuleParameters.Parse("numdummies=3 name=\"a b\""));
        Assert.All(first, f => Assert.Equal(PersistChange.Written, f.Change));
        Assert.Equal(persistence.Header + "\ndummy\n", File.ReadAllText(root.Root.Resolve("/etc/modules-load.d/dummy.conf")));
        Assert.Equal(persistence.Header + "\noptions dummy numdummies=3 name=\"a b\"\n", File.ReadAllText(root.Root.Resolve("/etc/modprobe.d/dummy.conf")));
        // The written options file is one modprobe reads back as written.
        Assert.Equal("numdummies=3 name=\"a b\"", ModprobeConfig.LoadFrom([root.Root.Resolve("/etc/modprobe.d")]).OptionsFor("dummy"));

        var again = persistence.Persist("dummy", ModuleParameters.Parse("numdummies=3 name=\"a b\""));
        Assert.All(again, f => Assert.Equal(PersistChange.Unchanged, f.Change));
        Assert.Empty(Directory.GetFiles(root.Root.Resolve("/etc/modprobe.d"), ".*"));

        var noParameters = persistence.Persist("dummy");
        Assert.Equal([PersistChange.Unchanged, PersistChange.Deleted], noParameters.Select(f => f.Change));

        root.File("/etc/modules-load.d/fat.conf", "fat\n");
        Assert.Throws<PersistenceConflictException>(() => persistence.Persist("fat"));
        Assert.Equal(PersistChange.LeftAlone, persistence.Unpersist("fat")[0].Change);
        Assert.Equal("fat\n", File.ReadAllText(root.Root.Resolve("/etc/modules-load.d/fat.conf")));

        Assert.Equal([PersistChange.Deleted, PersistChange.Absent], persistence.Unpersist("dummy").Select(f => f.Change));
        Assert.Throws<InvalidModuleNameException>(() => persistence.Persist("../etc/passwd"));
    }

    [Fact]
    public void APreviewNamesTheExactFilesAndWhatWouldChangeWithoutTouchingAny()
    {
        using var root = new Kernel.FakeKernelRoot();
        var persistence = new ModulePersistence(root.Root);
        var parameters = ModuleParameters.Parse("numdummies=2");
        var preview = persistence.PreviewPersist("dummy", parameters);
        Assert.Equal([root.Root.Resolve("/etc/modules-load.d/dummy.conf"), root.Root.Resolve("/etc/modprobe.d/dummy.conf")], preview.Select(f => f.Path));
        Assert.All(preview, f => Assert.True(f.Changed));
        Assert.False(File.Exists(preview[0].Path));
        Assert.False(File.Exists(preview[1].Path));

        // What the preview said is what persisting does; then nothing is left to change (Changed: first true, then false).
        var done = persistence.Persist("dummy", parameters);
        Assert.Equal(preview, done);
        Assert.All(persistence.PreviewPersist("dummy", parameters), f => Assert.False(f.Changed));
        Assert.All(persistence.Persist("dummy", parameters), f => Assert.False(f.Changed));

        var unpersist = persistence.PreviewUnpersist("dummy");
        Assert.Equal([PersistChange.Deleted, PersistChange.Deleted], unpersist.Select(f => f.Change));
        Assert.True(File.Exists(unpersist[0].Path));
        Assert.Equal(unpersist, persistence.Unpersist("dummy"));
        Assert.All(persistence.Unpersist("dummy"), f => Assert.False(f.Changed));
    }

}
