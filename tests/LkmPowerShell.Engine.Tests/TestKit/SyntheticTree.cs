using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Tests.TestKit;

/// <summary>
/// The synthetic module tree (<see cref="SyntheticModules"/>) written into a folder of its own and
/// indexed by the project's own depmod: what the hermetic tests (planner, ModprobeSession over
/// FakeKernel, configuration, audit) read where they once read Debian's 6.1 tree.
/// <see cref="Shared"/> is built once per test run and only read; a test that changes files makes
/// its own with <see cref="Create"/>.
/// </summary>
public sealed class SyntheticTree : IDisposable
{
    private static readonly Lazy<SyntheticTree> SharedTree = new(() =>
    {
        var tree = Create();
        // Deleted when the test run ends, by its exact path (made by this process with a unique name).
        AppDomain.CurrentDomain.ProcessExit += (_, _) => tree.Dispose();
        return tree;
    });

    private readonly string _folder;

    private SyntheticTree(string folder, bool withConfig)
    {
        _folder = folder;
        Root = Path.Combine(folder, "root");
        ModulesDirectory = SyntheticModules.Write(Root, withConfig);
        var result = DepmodRunner.Run(new DepmodOptions { Root = new SystemRoot(Root), KernelVersion = Version, UseCache = false });
        if (result.Warnings.Count > 0)
            throw new InvalidOperationException("depmod warned on the synthetic tree: " + string.Join("; ", result.Warnings));
        Tree = ModuleDirectory.Open(new SystemRoot(Root), Version);
    }

    /// <summary>The tree shared by every test that only reads it.</summary>
    public static SyntheticTree Shared => SharedTree.Value;

    /// <summary>A tree of one's own in a new temporary folder (with etc/modprobe.d/synthetic.conf when asked); dispose it.</summary>
    public static SyntheticTree Create(bool withConfig = false) =>
        new(Directory.CreateTempSubdirectory("lkm-synthetic-").FullName, withConfig);

    public string Version => SyntheticModules.Version;

    /// <summary>The system root: lib/modules/VERSION is under it.</summary>
    public string Root { get; }

    public string ModulesDirectory { get; }

    public ModuleDirectory Tree { get; }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (DirectoryNotFoundException) { }
    }
}
