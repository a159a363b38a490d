using System.Text;
using Xunit;
using LkmPowerShell.Engine.Planner;
using static LkmPowerShell.Engine.Tests.Planner.PlannerTestKit;

namespace LkmPowerShell.Engine.Tests.Planner;

/// <summary>
/// A softdep chain as deep as a hostile modprobe.d makes it: kmod's probe list recurses once per
/// link; the planner must neither exhaust the stack (which .NET answers by killing the process)
/// nor take the chain's length squared in time.
/// </summary>
public sealed class DeepSoftdepChainTests
{
    /// <summary>dummy needs c1 before it, c1 needs c2, ... each cN a name only an install command knows.</summary>
    internal static string Chain(int depth)
    {
        var text = new StringBuilder("softdep dummy pre: c1\n");
        for (var i = 1; i < depth; i++)
            text.Append("install c").Append(i).Append(" true\nsoftdep c").Append(i).Append(" pre: c").Append(i + 1).Append('\n');
        text.Append("install c").Append(depth).Append(" true\n");
        return text.ToString();
    }

    [Fact]
    public void AHundredThousandDeepChainIsPlannedOnASmallStack()
    {
        const int depth = 100_000;
        var resolver = Resolver(Chain(depth));
        LoadPlan? plan = null;
        Exception? failure = null;
        // A quarter of a megabyte of stack: a recursive walk needs far more for this chain.
        var thread = new Thread(() =>
        {
            try
            {
                plan = new LoadPlanner(resolver, Snapshot(), LoadPlanOptions.Default with { IgnoreLoaded = true }).PlanLoad("dummy");
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, maxStackSize: 256 * 1024);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromMinutes(2)), "planning a 100,000-deep chain did not finish within 2 minutes");
        Assert.Null(failure);
        Assert.Equal(depth + 1, plan!.Steps.Count);
        Assert.Equal($"c{depth}", plan.Steps[0].Module);
        Assert.Equal("c1", plan.Steps[^2].Module);
        Assert.Equal("dummy", plan.Steps[^1].Module);
        Assert.All(plan.Steps.Take(depth), s => Assert.Equal(LoadAction.RunInstallCommand, s.Action));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    [Fact]
    public void ACycleInTheChainEndsIt()
    {
        var plan = new LoadPlanner(Resolver("softdep dummy pre: c1\ninstall c1 true\nsoftdep c1 pre: c2\ninstall c2 true\nsoftdep c2 pre: c1 dummy\n"),
            Snapshot(), LoadPlanOptions.Default with { IgnoreLoaded = true }).PlanLoad("dummy");
        Assert.Equal(["c2", "c1", "dummy"], plan.Steps.Select(s => s.Module));
    }

    [Fact]
    public void TheIterativeWalkKeepsKmodsOrderOfPreModulePost()
    {
        // What modprobe -C (this text) -d ROOT -S 6.1.0-57-amd64 --show-depends msdos printed (kmod 30):
        // fat comes twice (once for msdos, once for vfat), and snd_timer brings soundcore and snd
        // before it. The synthetic tree links these modules as Debian's 6.1 tree does.
        var config = "softdep fat pre: loop post: dummy\nsoftdep msdos pre: vfat post: nls_cp437\nsoftdep nls_cp437 pre: snd_timer\n";
        var plan = new LoadPlanner(Resolver(config), Snapshot(), LoadPlanOptions.Default with { IgnoreLoaded = true }).PlanLoad("msdos");
        Assert.Equal(["loop", "fat", "dummy", "fat", "vfat", "msdos", "soundcore", "snd", "snd_timer", "nls_cp437"], plan.Steps.Select(s => s.Module));
    }

    [Fact]
    public void AHundredThousandDeepChainOfRemoveCommandsIsCutWithAWarning()
    {
        const int depth = 100_000;
        var text = new StringBuilder("softdep dummy post: c1\n");
        for (var i = 1; i < depth; i++)
            text.Append("remove c").Append(i).Append(" true\nsoftdep c").Append(i).Append(" post: c").Append(i + 1).Append('\n');
        UnloadPlan? plan = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                plan = new UnloadPlanner(Resolver(text.ToString()), Snapshot(Loaded("dummy")), new UnloadPlanOptions { RemoveUnusedDependencies = true }).PlanUnload("dummy");
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, maxStackSize: 1024 * 1024);
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromMinutes(2)));
        Assert.Null(failure);
        Assert.Equal("dummy", plan!.Steps[^1].Module);
        Assert.Contains(plan.Warnings, w => w.Contains("more than 100 modules deep", StringComparison.Ordinal));
        Assert.True(plan.Steps.Count <= 101, $"{plan.Steps.Count} steps");
    }
}
