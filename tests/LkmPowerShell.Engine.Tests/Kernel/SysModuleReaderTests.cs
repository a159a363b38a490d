using LkmPowerShell.Engine.Kernel;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Kernel;

public class SysModuleReaderTests
{
    [Fact]
    public void ReadsEveryAttributeOfALoadedModule()
    {
        using var root = new FakeKernelRoot()
            .LoadedModule("fat", refcnt: 1, coresize: 90112, initsize: 4096, taint: "OE", version: "1.2",
                srcversion: "ABCDEF0123456789ABCDEF0", holders: ["msdos", "vfat"],
                parameters: new Dictionary<string, string> { ["debug"] = "N", ["codepage"] = "cp 437 " });
        var info = new SysModuleReader(root.Root).Read("fat")!;

        Assert.False(info.IsBuiltin);
        Assert.Equal(ModuleState.Live, info.State);
        Assert.Equal(1, info.ReferenceCount);
        Assert.Equal(90112, info.CoreSize);
        Assert.Equal(4096, info.InitSize);
        Assert.Equal("OE", info.Taint);
        Assert.Equal("1.2", info.Version);
        Assert.Equal("ABCDEF0123456789ABCDEF0", info.SourceVersion);
        Assert.Equal(["msdos", "vfat"], info.Holders.Order());
        // Sorted by name; only the kernel's trailing newline is removed from a value.
        Assert.Equal(["codepage=cp 437 ", "debug=N"], info.Parameters.Select(p => p.ToString()));
    }

    [Theory]
    [InlineData("coming", ModuleState.Loading)]
    [InlineData("going", ModuleState.Unloading)]
    [InlineData("live", ModuleState.Live)]
    public void InitStateMapsToState(string initstate, ModuleState state)
    {
        using var root = new FakeKernelRoot().LoadedModule("m", initstate: initstate);
        Assert.Equal(state, new SysModuleReader(root.Root).Read("m")!.State);
    }

    [Fact]
    public void BuiltinsAreDirectoriesWithoutInitstate()
    {
        using var root = new FakeKernelRoot()
            .LoadedModule("fat")
            .File("/sys/module/printk/parameters/time", "Y\n")
            .File("/sys/module/bridge/version", "2.3\n")
            .File("/sys/module/compression", "xz\n");   // 6.4+: a file, not a module
        var reader = new SysModuleReader(root.Root);

        Assert.Equal(["bridge", "fat", "printk"], reader.EnumerateNames());
        Assert.Equal(["bridge", "printk"], reader.EnumerateBuiltinNames());
        var bridge = reader.Read("bridge")!;
        Assert.True(bridge.IsBuiltin);
        Assert.Null(bridge.State);
        Assert.Null(bridge.ReferenceCount);
        Assert.Equal("2.3", bridge.Version);
        Assert.Empty(bridge.Holders);
    }

    [Fact]
    public void AModuleThatIsNotThereIsNull()
    {
        using var root = new FakeKernelRoot().Dir("/sys/module");
        var reader = new SysModuleReader(root.Root);
        Assert.Null(reader.Read("fat"));
        Assert.Empty(reader.ReadHolders("fat"));
        Assert.Empty(reader.ReadParameters("fat"));
    }

    [Fact]
    public void NoSysModuleAtAllIsEmpty()
    {
        using var root = new FakeKernelRoot();
        Assert.Empty(new SysModuleReader(root.Root).EnumerateNames());
    }

    [Fact]
    public void MissingAttributesAreNullNotErrors()
    {
        // A module caught half-way through unloading: some files already gone.
        using var root = new FakeKernelRoot().File("/sys/module/half/initstate", "going\n");
        var info = new SysModuleReader(root.Root).Read("half")!;
        Assert.Equal(ModuleState.Unloading, info.State);
        Assert.Null(info.ReferenceCount);
        Assert.Null(info.CoreSize);
        Assert.Null(info.Taint);
    }

    [Fact]
    public void UnreadableParametersAreReportedNotThrown()
    {
        using var root = new FakeKernelRoot().LoadedModule("m", parameters: new Dictionary<string, string> { ["ok"] = "1" });
        var dir = root.Root.Resolve("/sys/module/m/parameters");
        // A write-only kernfs file refuses reading even to root (EACCES); linked from a root that is not
        // the host's, it is not followed out of the root at all: either way unreadable, reported, not thrown.
        const string writeOnly = "/sys/bus/platform/drivers_probe";
        Assert.True(File.Exists(writeOnly), $"{writeOnly} is the write-only sysfs file this test borrows");
        File.CreateSymbolicLink(Path.Join(dir, "secret"), writeOnly);
        // A getter that fails is reported too (here: a symlink loop, ELOOP).
        File.CreateSymbolicLink(Path.Join(dir, "loop"), Path.Join(dir, "loop"));

        var ps = new SysModuleReader(root.Root).ReadParameters("m");
        var secret = Assert.Single(ps, p => p.Name == "secret");
        Assert.False(secret.IsReadable);
        Assert.Contains("is a symbolic link, not a regular file", secret.Problem);
        Assert.Equal("1", Assert.Single(ps, p => p.Name == "ok").Value);
        var loop = ps.SingleOrDefault(p => p.Name == "loop");
        if (loop is not null) Assert.False(loop.IsReadable);

        var module = LoadedModule.FromBuiltin(new SysModuleReader(root.Root).Read("m")!);
        Assert.Contains("secret", module.UnreadableParameters);
        Assert.False(module.Parameters.ContainsKey("secret"));
    }

    [Fact]
    public void HostBuiltinsParseAndNoneHasInitstate()
    {
        // This build machine's kernel has built-ins in /sys/module (with parameters or a version);
        // some parameters there are write-only (mode 0200) and must come back as unreadable.
        Assert.True(OperatingSystem.IsLinux());
        if (!OperatingSystem.IsLinux()) return;
        var reader = new SysModuleReader(Engine.SystemRoot.Host);
        var builtins = reader.EnumerateBuiltinNames();
        Assert.NotEmpty(builtins);
        foreach (var name in builtins)
        {
            Assert.False(File.Exists($"/sys/module/{name}/initstate"));
            var info = reader.Read(name)!;
            Assert.True(info.IsBuiltin);
            foreach (var p in info.Parameters)
            {
                var mode = File.GetUnixFileMode($"/sys/module/{name}/parameters/{p.Name}");
                if ((mode & (UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead)) == 0)
                    Assert.False(p.IsReadable, $"{name}.{p.Name} is write-only yet read as '{p.Value}'");
            }
        }
    }
}
