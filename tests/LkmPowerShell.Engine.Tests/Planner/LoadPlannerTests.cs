using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.TestKit;
using Xunit;
using static LkmPowerShell.Engine.Tests.Planner.PlannerTestKit;

namespace LkmPowerShell.Engine.Tests.Planner;

/// <summary>The load planner's decisions, on the synthetic tree with hand-written configuration.</summary>
public class LoadPlannerTests
{
    private static LoadPlan Plan(string name, string config = "", KernelSnapshot? kernel = null, LoadPlanOptions? options = null,
        string? user = null, string? cmdline = null) =>
        new LoadPlanner(Resolver(config, cmdline), kernel ?? KernelSnapshot.Empty, options).PlanLoad(name, ModuleParameters.Parse(user));

    private static string Steps(LoadPlan plan) => string.Join(" ", plan.Steps.Select(s => $"{s.Action}:{s.Module}"));

    [Fact]
    public void DependenciesComeFirstAndOnlyTheTargetGetsUserParameters()
    {
        var plan = Plan("msdos", "options fat codepage=850\noptions msdos a=1", user: "b=\"x y\"", cmdline: "msdos.c=3");
        Assert.Equal("Insert:fat Insert:msdos", Steps(plan));
        Assert.Equal("codepage=850", plan.Steps[0].Parameters);
        Assert.Equal(LoadRole.Dependency, plan.Steps[0].Role);
        Assert.Equal("dependency of msdos", plan.Steps[0].Reason);
        // modprobe.d, then the kernel command line, then the caller: the kernel keeps the last value of a parameter.
        Assert.Equal("a=1 c=3 b=\"x y\"", plan.Steps[1].Parameters);
        Assert.DoesNotContain(plan.Steps, s => s.Optional);
    }

    [Fact]
    public void EverySoftdepLineCountsUnlessKmodCompatible()
    {
        const string config = "softdep msdos pre: nls_cp437\nsoftdep msdos post: nls_utf8";
        var plan = Plan("msdos", config);
        Assert.Equal("Insert:fat Insert:nls_cp437 Insert:msdos Insert:nls_utf8", Steps(plan));
        Assert.True(plan.Steps[1].Optional);
        Assert.Equal("softdep pre of msdos", plan.Steps[1].Reason);
        Assert.Equal("softdep post of msdos", plan.Steps[3].Reason);
        Assert.Equal("Insert:fat Insert:nls_cp437 Insert:msdos", Steps(Plan("msdos", config, options: LoadPlanOptions.KmodCompatible)));
    }

    [Fact]
    public void InstallCommandRunsEvenWithSoftdepsUnlessKmodCompatible()
    {
        const string config = "install dummy /bin/echo dummy $CMDLINE_OPTS\nsoftdep dummy pre: crc16\noptions dummy numdummies=2";
        var step = Plan("dummy", config).Steps[^1];
        Assert.Equal(LoadAction.RunInstallCommand, step.Action);
        Assert.Equal("/bin/echo dummy numdummies=2", step.CommandLine);
        Assert.Equal(LoadAction.Insert, Plan("dummy", config, options: LoadPlanOptions.KmodCompatible).Steps[^1].Action);
    }

    [Fact]
    public void WeakDependenciesAreNeverLoaded()
    {
        Assert.Equal("Insert:fat Insert:msdos", Steps(Plan("msdos", "weakdep msdos nls_utf8")));
    }

    [Fact]
    public void BlacklistStopsAliasesOnlyByDefault()
    {
        const string config = "blacklist vfat\nblacklist fat";
        var byAlias = Plan("fs-vfat", config);
        Assert.Empty(byAlias.Steps);
        Assert.Contains("blacklisted (test.conf:1)", byAlias.Skipped.Single().Reason);
        Assert.Equal("Insert:fat Insert:vfat", Steps(Plan("vfat", config)));

        var everywhere = new LoadPlanOptions { Blacklist = BlacklistScope.Everywhere };
        var e = Assert.Throws<ModuleBlacklistedException>(() => Plan("msdos", "blacklist fat", options: everywhere));
        Assert.Equal("Module msdos needs fat, which is blacklisted (test.conf:1).", e.Message);
        Assert.Equal("msdos", e.NeededBy);
        Assert.Throws<ModuleBlacklistedException>(() => Plan("vfat", config, options: everywhere));
        var softdep = Plan("msdos", "softdep msdos pre: nls_cp437\nblacklist nls_cp437", options: everywhere);
        Assert.Equal("Insert:fat Insert:msdos", Steps(softdep));
        Assert.Contains(softdep.Warnings, w => w.Contains("nls_cp437") && w.Contains("blacklisted"));
        // Already loaded, a blacklisted dependency is no obstacle.
        Assert.Equal("AlreadyLoaded:fat Insert:msdos", Steps(Plan("msdos", "blacklist fat", Snapshot(Loaded("fat")), everywhere)));
    }

    [Fact]
    public void LoadedAndBuiltinModulesAreAlreadyPresent()
    {
        var kernel = Snapshot(Loaded("fat", 0));
        Assert.Equal("AlreadyLoaded:fat Insert:msdos", Steps(Plan("msdos", kernel: kernel)));
        var done = Plan("fat", kernel: kernel);
        Assert.Equal("AlreadyLoaded:fat", Steps(done));
        Assert.True(done.IsNoOp);
        var builtin = PlannerTestKit.Tree.BuiltinModules()[0];
        Assert.Equal($"Builtin:{builtin}", Steps(Plan(builtin)));
        Assert.Equal($"builtin {builtin}\n", Plan(builtin, options: new LoadPlanOptions { IgnoreLoaded = true }).ToShowDependsText());
    }

    [Fact]
    public void AModuleKmodListsTwiceIsLoadedOnce()
    {
        // fat is msdos's dependency and its softdep: kmod lists it twice and gets EEXIST the second time.
        var plan = Plan("msdos", "softdep msdos pre: fat");
        Assert.Equal("Insert:fat AlreadyLoaded:fat Insert:msdos", Steps(plan));
        Assert.True(plan.Steps[1].IsRepeat);
        var shown = Plan("msdos", "softdep msdos pre: fat", options: new LoadPlanOptions { IgnoreLoaded = true }).ToShowDependsText();
        Assert.Equal(3, shown.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void AliasesResolveThroughConfigAndIndexes()
    {
        var resolver = Resolver("alias my-fat fat\ninstall fakemod /bin/true");
        Assert.Equal(ModuleSource.ConfigAlias, resolver.Resolve("my_fat").Source);
        Assert.Equal(ModuleSource.ModuleName, resolver.Resolve("snd-hda-intel").Source);
        Assert.Equal(ModuleSource.Symbol, resolver.Resolve("symbol:fat_build_inode").Source);
        Assert.Equal(ModuleSource.InstallCommand, resolver.Resolve("fakemod").Source);
        Assert.Equal(ModuleSource.Alias, resolver.Resolve("fs-msdos").Source);
        Assert.Equal(ModuleSource.Builtin, resolver.Resolve(PlannerTestKit.Tree.BuiltinModules()[0]).Source);
        Assert.Equal("fat", Assert.Single(resolver.Resolve("symbol:fat_build_inode").Modules).Name);
        Assert.Equal("RunInstallCommand:fakemod", Steps(Plan("fakemod", "install fakemod /bin/true")));
    }

    [Fact]
    public void AnAliasToAMissingModuleIsLeftOutWithItsLine()
    {
        // kmod's modprobe_show_alias_to_none: nothing is planned for it. Alone, nothing is left to load.
        var alone = Assert.Throws<ModuleNotFoundException>(() => Plan("mod-simple", "alias mod-simple deaddood"));
        Assert.Equal("deaddood", alone.AliasTarget);
        Assert.Equal(new ConfigLocation("test.conf", 1), alone.AliasSource);
        // Beside a module that is installed, the missing one is left out and named with its line.
        var half = Plan("half-there", "alias half-there deaddood\nalias half-there fat");
        Assert.Equal("Insert:fat", Steps(half));
        Assert.Equal("deaddood", Assert.Single(half.Skipped).Module);
        Assert.Contains(half.Warnings, w => w.Contains("'deaddood'") && w.Contains("(test.conf:1)"));
    }

    [Fact]
    public void ErrorsStateTheFactsInNoFrontEndsWords()
    {
        // The remedies (which command to run) are the cmdlets' to word: the engine names only facts.
        var e = Assert.Throws<ModuleNotFoundException>(() => Plan("no-such-module"));
        Assert.StartsWith($"Module 'no-such-module' not found for kernel {SyntheticModules.Version}: no module, alias or symbol of that name in ", e.Message);
        Assert.Contains("modules.dep, modules.alias, modules.symbols, modules.builtin", e.Message);
        Assert.DoesNotContain("KernelModule", e.Message);
        Assert.Null(e.AliasTarget);
        var alias = Assert.Throws<ModuleNotFoundException>(() => Plan("nowhere", "alias nowhere no_such_module"));
        Assert.Contains("(test.conf:1)", alias.Message);
        Assert.Equal("no_such_module", alias.AliasTarget);
        var path = Assert.Throws<InvalidModuleNameException>(() => Plan("kernel/fs/fat/fat.ko"));
        Assert.Contains("it is a path, not a module name", path.Message);
        Assert.DoesNotContain("-Path", path.Message);
        Assert.Throws<InvalidModuleNameException>(() => Plan("..fat"));
        Assert.Throws<InvalidModuleNameException>(() => Plan(" "));
        var soft = Plan("msdos", "softdep msdos pre: no-such-thing");
        Assert.Contains(soft.Warnings, w => w.Contains("'no-such-thing'") && w.Contains("test.conf:1"));
    }

    [Fact]
    public void APathIsInsertedAloneWithOnlyTheCallersParameters()
    {
        var path = Path.Join(PlannerTestKit.Tree.Path, "kernel/fs/fat/msdos.ko");
        var planner = new LoadPlanner(Resolver("options msdos ignored=1"), KernelSnapshot.Empty);
        var plan = planner.PlanInsert(path, ModuleParameters.Parse("x=1"));
        var step = Assert.Single(plan.Steps);
        Assert.Equal(("msdos", LoadAction.Insert, "x=1"), (step.Module, step.Action, step.Parameters));
        Assert.Throws<FileNotFoundException>(() => planner.PlanInsert(path + ".missing"));
    }

    [Fact]
    public void TheRunningKernelComesFromProcAndSys()
    {
        using var root = new Kernel.FakeKernelRoot();
        root.File("/proc/modules", "msdos 20480 0 - Live 0xffffffffc0a00000\nfat 86016 1 msdos, Live 0xffffffffc0a10000\n")
            .LoadedModule("msdos").LoadedModule("fat", refcnt: 1, holders: ["msdos"]);
        var kernel = KernelSnapshot.Read(new LkmPowerShell.Engine.Kernel.RunningKernel(root.Root));
        Assert.True(Plan("msdos", kernel: kernel).IsNoOp);
        Assert.Equal("AlreadyLoaded:fat Insert:vfat", Steps(Plan("vfat", kernel: kernel)));
    }
}
