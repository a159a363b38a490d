using LkmPowerShell.Engine.Dependencies;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.Loading;
using LkmPowerShell.Engine.Tests.Planner;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Dependencies;

/// <summary>
/// Plans as rows on the synthetic tree, made through <see cref="ModprobeSession.Load"/> with
/// <see cref="DryRunDecider"/> (the call Import-KernelModule -WhatIf makes): the same steps in the same
/// order as the plan, nothing asked of the kernel, and the reasons naming the lines that cause them.
/// </summary>
public sealed class DependencyChainTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("lkm-depchain-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static ModuleDirectory Tree => PlannerTestKit.Tree;

    private (FakeKernel Kernel, ModprobeSession Session) Open(string config = "")
    {
        var kernel = new FakeKernel(new SystemRoot(_scratch), Tree);
        return (kernel, new ModprobeSession(kernel, Tree, ModprobeConfig.Parse(config, "test.conf", null)));
    }

    /// <summary>Loads into the fake kernel for real, so use counts and holders are the kernel's.</summary>
    private static void Preload(ModprobeSession session, params string[] names) =>
        Assert.True(session.Load(LoadRequest.ForNames(names), ApproveAll.Instance).Succeeded);

    private static IReadOnlyList<DependencyRow> Rows(ModprobeSession session, string name) =>
        DependencyChain.FromLoad(session, Assert.Single(session.Load(LoadRequest.ForNames([name]), DryRunDecider.Instance).Items));

    [Fact]
    public void TheRowsAreThePlansStepsInOrderAndNothingIsLoaded()
    {
        var (kernel, session) = Open();
        var rows = Rows(session, "snd-dummy");
        var plan = session.PlanLoad("snd-dummy", []).Plan;
        Assert.Equal(plan.Steps.Select(s => s.Module), rows.Select(r => r.Module));
        Assert.Equal(plan.Steps.Select(s => s.Path), rows.Select(r => r.Path));
        Assert.Equal(Enumerable.Range(1, rows.Count), rows.Select(r => r.Order));
        Assert.Empty(kernel.LoadedNames);
        Assert.DoesNotContain(kernel.Calls, c => c.Contains("init_module", StringComparison.Ordinal));
        Assert.Equal(DependencyRole.Target, rows[^1].Role);
        Assert.All(rows, r => Assert.Equal(DependencyAction.Insert, r.Action));
        Assert.All(rows, r => Assert.Equal(SyntheticVersion, r.KernelVersion));
    }

    private static string SyntheticVersion => TestKit.SyntheticModules.Version;

    [Fact]
    public void EachDependencyNamesTheModuleThatNeedsItDirectlyNotOnlyTheTarget()
    {
        var (_, session) = Open();
        var rows = Rows(session, "snd-dummy").ToDictionary(r => r.Module);
        // modules.dep's line of snd_dummy holds the whole closure; the reduction finds each one's own user.
        Assert.Equal(["snd"], rows["soundcore"].NeededBy);
        Assert.Equal(DependencyKind.Depends, rows["soundcore"].Kind);
        Assert.Equal("snd_dummy", rows["soundcore"].Of); // the planner's: whose modules.dep line brought it
        Assert.False(rows["soundcore"].Direct);
        Assert.StartsWith("needed by snd (modules.dep)", rows["soundcore"].Reason, StringComparison.Ordinal);
        Assert.EndsWith("modules.dep", rows["soundcore"].Source!, StringComparison.Ordinal);
        Assert.Empty(rows["snd_dummy"].NeededBy);
    }

    [Fact]
    public void SoftdepsNameTheirConfigurationLineAndAreOptional()
    {
        var (_, session) = Open("# soft\nsoftdep msdos pre: nls_cp437 post: nls_iso8859-1\n");
        var rows = Rows(session, "msdos");
        var pre = Assert.Single(rows, r => r.Module == "nls_cp437");
        Assert.Equal(DependencyRole.SoftdepPre, pre.Role);
        Assert.Equal(DependencyKind.Softdep, pre.Kind);
        Assert.True(pre.Optional);
        Assert.Equal("test.conf:2", pre.Source);
        Assert.Equal("softdep pre of msdos (test.conf:2)", pre.Reason);
        Assert.Equal(["msdos"], pre.NeededBy);
        var post = Assert.Single(rows, r => r.Module == "nls_iso8859_1");
        Assert.Equal(DependencyRole.SoftdepPost, post.Role);
        Assert.True(rows.ToList().IndexOf(pre) < rows.ToList().FindIndex(r => r.Module == "msdos"));
    }

    [Fact]
    public void InstallCommandsBuiltinsAndLoadedModulesSayWhatHappens()
    {
        var (kernel, session) = Open("install dummy /bin/true\n");
        Preload(session, "fat");
        var dummy = Assert.Single(Rows(session, "dummy"));
        Assert.Equal(DependencyAction.InstallCommand, dummy.Action);
        Assert.Equal("test.conf:1", dummy.Source);
        Assert.Contains("install command '/bin/true'", dummy.Reason, StringComparison.Ordinal);
        Assert.Equal(DependencyAction.Builtin, Assert.Single(Rows(session, "crypto-crc32c")).Action);
        var msdos = Rows(session, "msdos");
        Assert.Equal(DependencyAction.AlreadyLoaded, msdos.Single(r => r.Module == "fat").Action);
        Assert.Equal(DependencyAction.Insert, msdos.Single(r => r.Module == "msdos").Action);
    }

    [Fact]
    public void AnAliasTargetSaysWhichAliasAndWeakdepsAreListedButNeverLoaded()
    {
        var (_, session) = Open("alias my-fat fat\nweakdep fat nls_utf8\n");
        var rows = Rows(session, "my-fat");
        var target = rows.Single(r => r.Role == DependencyRole.Target);
        Assert.Equal("fat", target.Module);
        Assert.Equal("target, modprobe.d alias 'my_fat' (test.conf:1)", target.Reason);
        var weak = Assert.Single(rows, r => r.Role == DependencyRole.Weakdep);
        Assert.Equal(("nls_utf8", DependencyAction.NotLoaded, DependencyKind.Weakdep, "test.conf:2"), (weak.Module, weak.Action, weak.Kind, weak.Source));
        Assert.Equal(["fat"], weak.NeededBy);
    }

    [Fact]
    public void AnUnknownNameGivesNoRowsAndTheOutcomeSaysWhy()
    {
        var (_, session) = Open();
        var item = Assert.Single(session.Load(LoadRequest.ForNames(["no_such_module"]), DryRunDecider.Instance).Items);
        Assert.IsType<ModuleNotFoundException>(item.Refusal);
        Assert.Empty(DependencyChain.FromLoad(session, item));
    }

    [Fact]
    public void TheRemovePlanListsItsStepsAndWhatStaysLoadedWithTheReason()
    {
        var (kernel, session) = Open();
        Preload(session, "msdos", "vfat");
        var item = Assert.Single(session.Unload(UnloadRequest.ForNames(["msdos"], UnloadOptions.RemoveUnusedDependencies), DryRunDecider.Instance).Items);
        var rows = DependencyChain.FromUnload(session, item, unusedDependencies: true);
        Assert.Equal(3, kernel.LoadedNames.Count); // a dry run removes nothing (fat, msdos, vfat)
        var target = rows[0];
        Assert.Equal(("msdos", DependencyRole.Target, DependencyAction.Remove), (target.Module, target.Role, target.Action));
        var fat = Assert.Single(rows, r => r.Module == "fat");
        Assert.Equal(DependencyAction.StaysLoaded, fat.Action);
        Assert.Contains("still used by vfat", fat.Reason, StringComparison.Ordinal);
        Assert.Equal(["msdos"], fat.NeededBy);
    }

    [Fact]
    public void WithoutOtherUsersTheUnusedDependencyIsRemovedAfterTheTarget()
    {
        var (kernel, session) = Open();
        Preload(session, "msdos");
        var item = Assert.Single(session.Unload(UnloadRequest.ForNames(["msdos"], UnloadOptions.RemoveUnusedDependencies), DryRunDecider.Instance).Items);
        var rows = DependencyChain.FromUnload(session, item, unusedDependencies: true);
        Assert.Equal([("msdos", DependencyRole.Target), ("fat", DependencyRole.UnusedDependency)], rows.Select(r => (r.Module, r.Role)));
        Assert.All(rows, r => Assert.Equal(DependencyAction.Remove, r.Action));
    }
}
