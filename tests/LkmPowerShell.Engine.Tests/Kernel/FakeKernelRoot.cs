using LkmPowerShell.Engine;

namespace LkmPowerShell.Engine.Tests.Kernel;

/// <summary>
/// A throw-away system root in a temp folder with hand-made /proc and /sys files. It tests the
/// readers' parsing and error paths only; real kernels are the QEMU bench's job.
/// </summary>
public sealed class FakeKernelRoot : IDisposable
{
    public FakeKernelRoot()
    {
        Path = Directory.CreateTempSubdirectory("lkm-kernel-").FullName;
        Root = new SystemRoot(Path);
    }

    public string Path { get; }
    public SystemRoot Root { get; }

    /// <summary>Writes a file at an absolute system path under the root, creating folders.</summary>
    public FakeKernelRoot File(string systemPath, string text)
    {
        var full = Root.Resolve(systemPath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllText(full, text);
        return this;
    }

    public FakeKernelRoot Dir(string systemPath)
    {
        Directory.CreateDirectory(Root.Resolve(systemPath));
        return this;
    }

    /// <summary>A loaded module's /sys/module directory, as the kernel lays it out.</summary>
    public FakeKernelRoot LoadedModule(string name, string initstate = "live", int refcnt = 0, long coresize = 16384,
        long initsize = 0, string taint = "", string? version = null, string? srcversion = null,
        string[]? holders = null, IReadOnlyDictionary<string, string>? parameters = null)
    {
        var dir = $"/sys/module/{name}";
        File($"{dir}/initstate", initstate + "\n");
        File($"{dir}/refcnt", refcnt + "\n");
        File($"{dir}/coresize", coresize + "\n");
        File($"{dir}/initsize", initsize + "\n");
        File($"{dir}/taint", taint + "\n");
        if (version is not null) File($"{dir}/version", version + "\n");
        if (srcversion is not null) File($"{dir}/srcversion", srcversion + "\n");
        Dir($"{dir}/holders");
        foreach (var h in holders ?? [])
            System.IO.File.CreateSymbolicLink(Root.Resolve($"{dir}/holders/{h}"), $"../../{h}");
        foreach (var (k, v) in parameters ?? new Dictionary<string, string>())
            File($"{dir}/parameters/{k}", v + "\n");
        return this;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
