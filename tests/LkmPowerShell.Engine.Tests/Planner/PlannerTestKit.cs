using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Tests.Planner;

/// <summary>Builds resolvers on Debian's 6.1 tree with a config given as text, and loaded-module lists.</summary>
internal static class PlannerTestKit
{
    private static readonly Lazy<ModuleDirectory> PlainTree = new(() =>
        ModuleDirectory.Open(new SystemRoot(KernelFixtures.Plain.Root), KernelFixtures.Plain.Version));

    public static ModuleDirectory Tree => PlainTree.Value;

    /// <summary>The tree's modules.softdep is not read, so only <paramref name="config"/> counts.</summary>
    public static ModuleResolver Resolver(string config = "", string? cmdline = null) =>
        new(Tree, ModprobeConfig.Parse(config, "test.conf", cmdline));

    public static LoadedModule Loaded(string name, int refcnt = 0, params string[] holders) =>
        new(name, 16384, refcnt, holders, ModuleState.Live, null, "", null, null, new Dictionary<string, string>(), [], 0, 16384, false, false);

    public static KernelSnapshot Snapshot(params LoadedModule[] modules) => new(modules);
}
