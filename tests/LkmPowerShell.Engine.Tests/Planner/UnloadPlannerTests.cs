using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.TestKit;
using Xunit;
using static LkmPowerShell.Engine.Tests.Planner.PlannerTestKit;

namespace LkmPowerShell.Engine.Tests.Planner;

/// <summary>modprobe -r / rmmod plans on the synthetic tree with hand-made kernel state.</summary>
public class UnloadPlannerTests
{
    private static readonly KernelSnapshot FatAndMsdos = Snapshot(Loaded("msdos"), Loaded("fat", 1, "msdos"));

    private static UnloadPlan Plan(string name, KernelSnapshot kernel, UnloadPlanOptions? options = null, string config = "") =>
        new UnloadPlanner(Resolver(config), kernel, options).PlanUnload(name);

    private static string Steps(UnloadPlan plan) => string.Join(" ", plan.Steps.Select(s => $"{s.Action}:{s.Module}"));

    [Fact]
    public void AModuleInUseIsRefusedNamingItsHolders()
    {
        var e = Assert.Throws<ModuleInUseException>(() => Plan("fat", FatAndMsdos));
        Assert.Equal(["msdos"], e.Holders);
        Assert.StartsWith("Module fat is in use by msdos.", e.Message);
        var busy = Assert.Throws<ModuleInUseException>(() => Plan("msdos", Snapshot(Loaded("msdos", 2))));
        Assert.Contains("reference count 2", busy.Message);
    }

    [Fact]
    public void WaitingForTheUseCountPlansAModuleUsedOnlyByProcessesButNotOneHeldByModules()
    {
        // modprobe -r --wait skips the use-count check and retries delete_module; a count held by
        // processes (an open device, a mount) can drop while we wait, one held by modules cannot.
        var wait = new UnloadPlanOptions { WaitForUseCount = true };
        Assert.Equal("Remove:msdos", Steps(Plan("msdos", Snapshot(Loaded("msdos", 2)), wait)));
        var held = Assert.Throws<ModuleInUseException>(() => Plan("fat", FatAndMsdos, wait));
        Assert.Equal(["msdos"], held.Holders);
        // the unused dependencies after it are planned as if the wait succeeds
        var plan = Plan("msdos", Snapshot(Loaded("msdos", 1), Loaded("fat", 1, "msdos")), wait with { RemoveUnusedDependencies = true });
        Assert.Equal("Remove:msdos Remove:fat", Steps(plan));
    }

    [Fact]
    public void UnusedDependenciesGoOnlyWhenAsked()
    {
        Assert.Equal("Remove:msdos", Steps(Plan("msdos", FatAndMsdos)));
        var plan = Plan("msdos", FatAndMsdos, new UnloadPlanOptions { RemoveUnusedDependencies = true });
        Assert.Equal("Remove:msdos Remove:fat", Steps(plan));
        Assert.True(plan.Steps[1].Optional);
        Assert.Equal("unused dependency of msdos", plan.Steps[1].Reason);
        Assert.Equal("rmmod msdos\nrmmod fat\n", plan.ToModprobeText());
        // fat stays when vfat still uses it.
        var shared = Plan("msdos", Snapshot(Loaded("msdos"), Loaded("vfat"), Loaded("fat", 2, "msdos", "vfat")), new UnloadPlanOptions { RemoveUnusedDependencies = true });
        Assert.Equal("Remove:msdos", Steps(shared));
        Assert.Contains(shared.Warnings, w => w.Contains("vfat still uses it"));
    }

    [Fact]
    public void AChainUnwindsFully()
    {
        var kernel = Snapshot(Loaded("nfsv4"), Loaded("dns_resolver", 1, "nfsv4"), Loaded("nfs", 1, "nfsv4"), Loaded("lockd", 1, "nfs"),
            Loaded("grace", 1, "lockd"), Loaded("sunrpc", 3, "nfsv4", "nfs", "lockd"), Loaded("fscache", 1, "nfs"), Loaded("netfs", 2, "nfs", "fscache"));
        var plan = Plan("nfsv4", kernel, new UnloadPlanOptions { RemoveUnusedDependencies = true });
        Assert.Equal("Remove:nfsv4 Remove:dns_resolver Remove:nfs Remove:lockd Remove:grace Remove:sunrpc Remove:fscache Remove:netfs", Steps(plan));
    }

    [Fact]
    public void HoldersGoFirstWhenAsked()
    {
        Assert.Equal("Remove:msdos Remove:fat", Steps(Plan("fat", FatAndMsdos, new UnloadPlanOptions { RemoveHolders = true })));
        Assert.Equal(UnloadRole.Holder, Plan("fat", FatAndMsdos, new UnloadPlanOptions { RemoveHolders = true }).Steps[0].Role);
    }

    [Fact]
    public void SoftdepsGoInReverseAroundTheModule()
    {
        var kernel = Snapshot(Loaded("msdos"), Loaded("fat", 1, "msdos"), Loaded("nls_cp437"), Loaded("nls_utf8"), Loaded("nls_iso8859_1"));
        var plan = Plan("msdos", kernel, new UnloadPlanOptions { RemoveUnusedDependencies = true },
            "softdep msdos pre: nls_cp437 nls_iso8859_1 post: nls_utf8 not-loaded-one");
        Assert.Equal("Remove:nls_utf8 Remove:msdos Remove:fat Remove:nls_iso8859_1 Remove:nls_cp437", Steps(plan));
        Assert.Equal("softdep post of msdos", plan.Steps[0].Reason);
    }

    [Fact]
    public void AbsentBuiltinAndRemoveCommands()
    {
        var absent = Plan("msdos", KernelSnapshot.Empty);
        Assert.Equal("AlreadyAbsent:msdos", Steps(absent));
        Assert.True(absent.IsNoOp);
        var builtin = PlannerTestKit.Tree.BuiltinModules()[0];
        var e = Assert.Throws<ModuleBuiltinException>(() => Plan(builtin, KernelSnapshot.Empty));
        Assert.StartsWith($"Module {builtin} is built into kernel {SyntheticModules.Version}", e.Message);
        var command = Plan("dummy", KernelSnapshot.Empty, config: "remove dummy /bin/echo bye");
        Assert.Equal("RunRemoveCommand:dummy", Steps(command));
        Assert.Equal("remove /bin/echo bye\n", command.ToModprobeText());
    }

    [Fact]
    public void AModuleLoadedByPathIsRemovableByName()
    {
        Assert.Equal("Remove:my_out_of_tree", Steps(Plan("my-out-of-tree", Snapshot(Loaded("my_out_of_tree")))));
        Assert.Throws<ModuleNotFoundException>(() => Plan("my-out-of-tree", KernelSnapshot.Empty));
    }
}
