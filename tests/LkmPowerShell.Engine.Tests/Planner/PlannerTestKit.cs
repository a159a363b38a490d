using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.TestKit;

namespace LkmPowerShell.Engine.Tests.Planner;

/// <summary>Builds resolvers on the synthetic tree with a config given as text, and loaded-module lists.</summary>
internal static class PlannerTestKit
{
    public static ModuleDirectory Tree => SyntheticTree.Shared.Tree;

    /// <summary>The tree's modules.softdep is not read, so only <paramref name="config"/> counts.</summary>
    public static ModuleResolver Resolver(string config = "", string? cmdline = null) =>
        new(Tree, ModprobeConfig.Parse(config, "test.conf", cmdline));

    public static LoadedModule Loaded(string name, int refcnt = 0, params string[] holders) =>
        new(name, 16384, refcnt, holders, ModuleState.Live, null, "", null, null, new Dictionary<string, string>(), [], 0, 16384, false, false);

    public static KernelSnapshot Snapshot(params LoadedModule[] modules) => new(modules);
}
