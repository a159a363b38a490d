using Xunit;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.Planner;
using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Tests.Loading;

/// <summary>
/// The write side as one engine call (<see cref="ModprobeSession.Load"/>, <see cref="ModprobeSession.Unload"/>)
/// against <see cref="FakeKernel"/>: every policy a cmdlet used to decide between calls, reached here
/// with a scripted decider.
/// </summary>
public sealed class WriteCallTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("lkm-writecall-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static ModuleDirectory Tree => PlannerTestKit.Tree;

    private (FakeKernel Kernel, CountingKernel Counted, ModprobeSession Session) Open(string config = "", CommandRunner? run = null)
    {
        var kernel = new FakeKernel(new SystemRoot(_scratch), Tree);
        var counted = new CountingKernel(kernel);
        var session = new ModprobeSession(counted, Tree, ModprobeConfig.Parse(config, "test.conf", null), new ModprobeSessionOptions
        {
            RunCommand = run ?? ((command, _) => command.StartsWith("false", StringComparison.Ordinal) || command == "/bin/false" ? 1 : 0),
        });
        return (kernel, counted, session);
    }

    private static LoadRequest Names(params string[] names) => LoadRequest.ForNames(names);

    [Fact]
    public void OneCallLoadsTheChainAsksEachStepOnceAndReportsTheFinalState()
    {
        var (kernel, _, session) = Open();
        var decider = new ScriptedDecider();
        var report = session.Load(Names("msdos"), decider);
        Assert.True(report.Succeeded);
        Assert.Null(report.Stopped);
        var item = Assert.Single(report.Items);
        Assert.Equal(["fat", "msdos"], kernel.LoadedNames);
        Assert.Equal(["load fat", "load msdos"], decider.Asked);
        Assert.True(item.Changed);
        Assert.Equal("msdos", Assert.Single(item.Final).Name);
        Assert.All(item.Execution!.Steps, s => Assert.Equal(StepStatus.Changed, s.Status));
    }

    [Fact]
    public void TheKernelIsReadOnceAndAgainOnlyAfterTheCallChangedIt()
    {
        var (_, counted, session) = Open();
        session.Load(Names("msdos", "vfat"), new ScriptedDecider());
        Assert.Equal(3, counted.Snapshots); // once, then after msdos, then after vfat
        counted.Snapshots = 0;
        var again = session.Load(Names("msdos", "vfat"), new ScriptedDecider());
        Assert.Equal(1, counted.Snapshots); // nothing changed: the one read serves planning and the final state
        Assert.Equal(["msdos", "vfat"], again.Items.Select(i => Assert.Single(i.Final).Name));
    }

    [Fact]
    public void ADeclinedStepMakesTheStepsThatNeedItNotReachedAndUnasked()
    {
        // No for fat, Yes for msdos: msdos is not tried (it would fail on fat's symbols), and not asked about.
        var (kernel, _, session) = Open();
        var decider = new ScriptedDecider { Load = step => step.Module == "fat" ? ChangeDecision.No : ChangeDecision.Yes };
        var item = Assert.Single(session.Load(Names("msdos"), decider).Items);
        Assert.Equal(["load fat"], decider.Asked);
        Assert.Equal([StepStatus.Declined, StepStatus.NotReached], item.Execution!.Steps.Select(s => s.Status));
        Assert.Null(item.Execution.Failure);
        Assert.Empty(kernel.Calls);
        Assert.Empty(item.Final);
    }

    [Fact]
    public void ADeclinedDependencyBlocksOnlyWhatNeedsIt()
    {
        // snd-dummy's chain: declining snd_timer leaves soundcore and snd to load; snd_pcm and snd_dummy need snd_timer.
        var (kernel, _, session) = Open();
        var decider = new ScriptedDecider { Load = step => step.Module == "snd_timer" ? ChangeDecision.No : ChangeDecision.Yes };
        var item = Assert.Single(session.Load(Names("snd-dummy"), decider).Items);
        Assert.Equal(["load soundcore", "load snd", "load snd_timer"], decider.Asked);
        Assert.Equal([StepStatus.Changed, StepStatus.Changed, StepStatus.Declined, StepStatus.NotReached, StepStatus.NotReached],
            item.Execution!.Steps.Select(s => s.Status));
        Assert.Equal(["soundcore", "snd"], kernel.LoadedNames);
    }

    [Fact]
    public void ADryRunShowsEveryStepAndChangesNothing()
    {
        var (kernel, _, session) = Open();
        var decider = new ScriptedDecider { Load = _ => ChangeDecision.DryRun };
        var item = Assert.Single(session.Load(Names("msdos"), decider).Items);
        Assert.Equal(["load fat", "load msdos"], decider.Asked);
        Assert.All(item.Execution!.Steps, s => Assert.Equal(StepStatus.Declined, s.Status));
        Assert.Empty(kernel.Calls);
        Assert.False(item.Changed);
    }

    [Fact]
    public void ADisabledModuleIsRefusedAsATypedErrorNamingTheLineBeforeAnythingIsAsked()
    {
        var (kernel, _, session) = Open("install msdos /bin/false\nblacklist msdos\n");
        var decider = new ScriptedDecider();
        var item = Assert.Single(session.Load(Names("msdos"), decider).Items);
        var e = Assert.IsType<ModuleDisabledException>(item.Refusal);
        Assert.Equal("ModuleDisabled", e.ErrorId);
        Assert.Equal("msdos", Assert.Single(e.Blocks).Module);
        Assert.Equal("msdos is disabled in modprobe.d (msdos by test.conf:1): its install command loads nothing, so modprobe would only run it and fail.", e.Message);
        Assert.Empty(decider.Asked);
        Assert.Empty(kernel.Calls);
    }

    [Fact]
    public void IgnoreDisabledLoadsItWithoutInstallCommandsAndTellsTheDeciderTheRisk()
    {
        var (kernel, _, session) = Open("install msdos /bin/false\nsoftdep msdos pre: loop\n");
        var decider = new ScriptedDecider();
        var item = Assert.Single(session.Load(LoadRequest.ForNames(["msdos"], options: LoadOptions.IgnoreDisabled), decider).Items);
        Assert.Null(item.Refusal);
        Assert.Equal(["fat", "msdos"], kernel.LoadedNames); // no softdep either, as modprobe -i
        Assert.Equal("msdos", Assert.Single(item.Disabled).Module);
        Assert.Equal([false, true], decider.Risks.Select(r => r.IgnoresDisabled));
        Assert.All(decider.Risks, r => Assert.False(r.SkipsVersionCheck));
    }

    [Fact]
    public void SkipVersionCheckIsARiskOfEachInsertAndLoadsAModuleForAnotherRelease()
    {
        var (kernel, _, session) = Open();
        kernel.Release = "9.9.9-other";
        var decider = new ScriptedDecider();
        var item = Assert.Single(session.Load(LoadRequest.ForNames(["fat"], options: LoadOptions.SkipVersionCheck), decider).Items);
        Assert.True(item.Succeeded);
        Assert.True(Assert.Single(decider.Risks).SkipsVersionCheck);
        Assert.Equal(["fat"], kernel.LoadedNames);
    }

    [Theory]
    [InlineData(ChangeDecision.DryRun)]
    [InlineData(ChangeDecision.No)]
    public void AnAliasToNothingIsAPlanFactAWarningWhenNothingRuns(ChangeDecision answer)
    {
        var (kernel, _, session) = Open("alias mod-simple deaddood\n");
        var decider = new ScriptedDecider { NothingToLoad = _ => answer };
        var item = Assert.Single(session.Load(Names("mod-simple"), decider).Items);
        Assert.Null(item.Refusal);
        Assert.Equal("deaddood", item.NothingToLoad!.AliasTarget);
        Assert.Equal("test.conf:1", item.NothingToLoad.AliasSource!.ToString());
        Assert.Empty(kernel.Calls);
    }

    [Fact]
    public void AnAliasToNothingFailsARealLoad()
    {
        var (_, _, session) = Open("alias mod-simple deaddood\n");
        var item = Assert.Single(session.Load(Names("mod-simple"), new ScriptedDecider()).Items);
        Assert.Equal("deaddood", Assert.IsType<ModuleNotFoundException>(item.Refusal).AliasTarget);
        Assert.Null(item.NothingToLoad);
    }

    [Fact]
    public void AMisspeltNameIsRefusedAndTheNextNameStillLoads()
    {
        var (kernel, _, session) = Open();
        var report = session.Load(Names("msdso", "dummy"), new ScriptedDecider());
        Assert.IsType<ModuleNotFoundException>(report.Items[0].Refusal);
        Assert.True(report.Items[1].Succeeded);
        Assert.Equal(["dummy"], kernel.LoadedNames);
    }

    [Fact]
    public void ARenamedFileLoadsUnderItsModulesOwnNameAndIsReportedSo()
    {
        var (kernel, _, session) = Open();
        var renamed = Path.Join(_scratch, "renamed-copy.ko");
        File.Copy(Tree.FindModule("dummy")!.Path, renamed);
        var item = Assert.Single(session.Load(LoadRequest.ForPath(renamed), new ScriptedDecider()).Items);
        Assert.True(item.Succeeded);
        Assert.Equal("dummy", Assert.Single(item.Plan!.Steps).Module);
        Assert.Equal(["dummy"], kernel.LoadedNames);
        Assert.Equal("dummy", Assert.Single(item.Final).Name);

        // Loaded already: the same file is a no-op, as the kernel would say EEXIST for that name.
        var calls = kernel.Calls.Count;
        var again = Assert.Single(session.Load(LoadRequest.ForPath(renamed), new ScriptedDecider()).Items);
        Assert.True(again.Plan!.IsNoOp);
        Assert.Equal(calls, kernel.Calls.Count);
        Assert.Equal("dummy", Assert.Single(again.Final).Name);
    }

    [Fact]
    public void APathTheKernelWouldRefuseIsRefusedBeforeAnyQuestionNamingTheProvider()
    {
        var (kernel, _, session) = Open();
        var decider = new ScriptedDecider();
        var item = Assert.Single(session.Load(LoadRequest.ForPath(Tree.FindModule("msdos")!.Path), decider).Items);
        var refusal = Assert.IsType<ModuleWouldBeRefusedException>(item.Refusal);
        Assert.Equal(RefusalReason.MissingSymbols, refusal.Reason);
        Assert.Equal(["fat"], refusal.Providers);
        Assert.Empty(decider.Asked);
        Assert.Empty(kernel.Calls);
    }

    [Fact]
    public void APathThatIsNotAModuleIsRefusedWithTheReadFailure()
    {
        var (_, _, session) = Open();
        var junk = Path.Join(_scratch, "junk.ko");
        File.WriteAllText(junk, "not an ELF file");
        var item = Assert.Single(session.Load(LoadRequest.ForPath(junk), new ScriptedDecider()).Items);
        Assert.IsType<ModuleFormatException>(item.Refusal);
        var missing = Assert.Single(session.Load(LoadRequest.ForPath(Path.Join(_scratch, "absent.ko")), new ScriptedDecider()).Items);
        Assert.IsAssignableFrom<IOException>(missing.Refusal);
    }

    [Fact]
    public void WithoutThePrivilegeTheCallStopsAtTheFirstApprovedChangeAndTheRestIsNotReached()
    {
        var (kernel, _, session) = Open();
        kernel.CallerMayManageModules = false;
        var report = session.Load(Names("msdos", "dummy"), new ScriptedDecider());
        Assert.IsType<ModulePrivilegeException>(report.Stopped);
        Assert.Empty(kernel.Calls);
        Assert.Equal([StepStatus.Declined, StepStatus.NotReached], report.Items[0].Execution!.Steps.Select(s => s.Status));
        Assert.True(report.Items[1].NotReached);

        // A dry run needs no privilege: it only shows.
        var dry = session.Load(Names("msdos"), new ScriptedDecider { Load = _ => ChangeDecision.DryRun });
        Assert.Null(dry.Stopped);
    }

    [Fact]
    public void AKernelWithoutModuleSupportStopsTheCallBeforeAnySyscall()
    {
        var (kernel, _, session) = Open();
        kernel.SupportsModules = false;
        var report = session.Load(Names("dummy"), new ScriptedDecider());
        Assert.IsType<KernelModulesUnsupportedException>(report.Stopped);
        Assert.Empty(kernel.Calls);
        Assert.IsType<KernelModulesUnsupportedException>(KernelAccess.ChangeProblem(kernel, privilege: false));
    }

    [Fact]
    public void ADeciderThatRefusesTheCallStopsItThere()
    {
        var (kernel, _, session) = Open();
        var decider = new ScriptedDecider { StopAtFirst = true };
        var report = session.Load(Names("msdos", "dummy"), decider);
        Assert.IsType<ChangeRefusedException>(report.Stopped);
        Assert.Equal(["load fat"], decider.Asked);
        Assert.True(report.Items[1].NotReached);
        Assert.Empty(kernel.Calls);
    }

    [Fact]
    public void AFailedChainIsRolledBackWithinTheCallAndNothingIsPersisted()
    {
        var (kernel, _, session) = Open();
        kernel.Fail("insert", "snd_dummy", ModuleErrno.ENOMEM);
        var decider = new ScriptedDecider();
        var item = Assert.Single(session.Load(LoadRequest.ForNames(["snd-dummy"], options: LoadOptions.Persist), decider).Items);
        Assert.False(item.Succeeded);
        Assert.Equal(["snd_pcm", "snd_timer", "snd", "soundcore"], item.Execution!.RolledBack);
        Assert.Empty(kernel.LoadedNames);
        Assert.Null(item.Persisted);
        Assert.DoesNotContain(decider.Asked, a => a.StartsWith("files", StringComparison.Ordinal));
    }

    [Fact]
    public void PersistAsksWithTheExactFilesAndAsksNothingWhenTheyAlreadySaySo()
    {
        var (_, _, session) = Open();
        var decider = new ScriptedDecider();
        var request = LoadRequest.ForNames(["dummy"], ModuleParameters.Parse("numdummies=2"), LoadOptions.Persist);
        var item = Assert.Single(session.Load(request, decider).Items);
        Assert.Equal([$"files dummy load {_scratch}/etc/modules-load.d/dummy.conf {_scratch}/etc/modprobe.d/dummy.conf"], decider.Asked.Where(a => a.StartsWith("files", StringComparison.Ordinal)));
        Assert.True(item.Persisted!.Changed);
        Assert.True(File.Exists(Path.Join(_scratch, "etc/modules-load.d/dummy.conf")));

        var again = Assert.Single(session.Load(request, decider = new ScriptedDecider()).Items);
        Assert.True(again.Persisted!.NothingToDo);
        Assert.Empty(decider.Asked);
        Assert.False(again.Changed);
    }

    [Fact]
    public void AFileNotOursIsAPersistFailureNotACrash()
    {
        var (_, _, session) = Open();
        Directory.CreateDirectory(Path.Join(_scratch, "etc/modules-load.d"));
        File.WriteAllText(Path.Join(_scratch, "etc/modules-load.d/dummy.conf"), "dummy\n");
        var item = Assert.Single(session.Load(LoadRequest.ForNames(["dummy"], options: LoadOptions.Persist), new ScriptedDecider()).Items);
        Assert.IsType<PersistenceConflictException>(item.Persisted!.Failure);
        Assert.Equal("dummy\n", File.ReadAllText(Path.Join(_scratch, "etc/modules-load.d/dummy.conf")));
    }

    [Theory]
    [InlineData(ChangeDecision.DryRun)]
    [InlineData(ChangeDecision.Yes)]
    public void BuiltinsAreShownInTheirPlaceAsKmodShowsThemAndNeverAsked(ChangeDecision answer)
    {
        // modprobe --show-depends net-pf-1 prints "builtin unix"; with "softdep msdos pre: unix" it prints
        // insmod fat.ko, builtin unix, insmod msdos.ko (kmod 30 on the synthetic tree): the pre-softdep in its place.
        var (kernel, _, session) = Open("softdep msdos pre: unix");
        var decider = new ScriptedDecider { Load = _ => answer };
        var alone = Assert.Single(session.Load(Names("net-pf-1"), decider).Items);
        Assert.True(alone.Succeeded);
        Assert.Equal(["builtin unix"], decider.Shown);
        Assert.Empty(decider.Asked);
        decider.Shown.Clear();
        session.Load(Names("msdos"), decider);
        Assert.Equal(["load fat", "builtin unix", "load msdos"], decider.Shown);
        Assert.Equal(["load fat", "load msdos"], decider.Asked);
        Assert.Equal(answer == ChangeDecision.Yes ? ["fat", "msdos"] : [], kernel.LoadedNames);
    }

    /// <summary>A session on a kernel whose modules are not installed under the root (a custom kernel, a container): /proc/modules but no /lib/modules/VERSION.</summary>
    private (FakeKernel Kernel, ModprobeSession Session) OpenWithoutTree()
    {
        var kernel = new FakeKernel(new SystemRoot(_scratch), Tree);
        var absent = ModuleDirectory.Absent(new SystemRoot(_scratch), Tree.KernelVersion);
        Assert.False(absent.IsInstalled);
        return (kernel, new ModprobeSession(kernel, absent, ModprobeConfig.Parse("", "test.conf", null)));
    }

    [Fact]
    public void InsmodAndRmmodNeedNoModuleTree()
    {
        // kmod's insmod PATH and rmmod NAME never read /lib/modules: a kernel without a tree loads a
        // file and removes a module by name, and a name that is not loaded has nothing to remove.
        var (kernel, session) = OpenWithoutTree();
        foreach (var path in new[] { Tree.FindModule("fat")!.Path, Tree.FindModule("msdos")!.Path })
        {
            var loaded = Assert.Single(session.Load(LoadRequest.ForPath(path), ApproveAll.Instance).Items);
            Assert.Null(loaded.Refusal);
            Assert.True(loaded.Succeeded);
        }
        Assert.Equal(["fat", "msdos"], kernel.LoadedNames);
        var removed = Assert.Single(session.Unload(UnloadRequest.ForNames(["msdos"]), ApproveAll.Instance).Items);
        Assert.Null(removed.Refusal);
        Assert.True(removed.Changed);
        var absent = Assert.Single(session.Unload(UnloadRequest.ForNames(["dummy"]), ApproveAll.Instance).Items);
        Assert.Null(absent.Refusal);
        Assert.True(absent.Plan!.IsNoOp);
        Assert.Equal(["fat"], kernel.LoadedNames);
    }

    [Fact]
    public void WhatNeedsTheModuleTreeSaysSoWithoutATree()
    {
        var (kernel, session) = OpenWithoutTree();
        session.Load(LoadRequest.ForPath(Tree.FindModule("fat")!.Path), ApproveAll.Instance);
        var decider = new ScriptedDecider();
        var byName = Assert.Single(session.Load(Names("msdos"), decider).Items);
        var missing = Assert.IsType<ModuleTreeMissingException>(byName.Refusal);
        Assert.Equal("KernelNotInstalled", missing.ErrorId);
        Assert.Contains("Loading 'msdos' by name needs the module tree of kernel " + Tree.KernelVersion, missing.Message);
        Assert.Contains(Path.Join(_scratch, "lib/modules", Tree.KernelVersion) + " does not exist", missing.Message);
        var unused = Assert.Single(session.Unload(UnloadRequest.ForNames(["fat"], UnloadOptions.RemoveUnusedDependencies), decider).Items);
        Assert.Contains("dependencies of 'fat'", Assert.IsType<ModuleTreeMissingException>(unused.Refusal).Message);
        Assert.Empty(decider.Asked);
        Assert.Equal(["fat"], kernel.LoadedNames);
    }

    [Fact]
    public void UnloadRefusesAModuleInUseAndReportsItAsItWas()
    {
        var (kernel, _, session) = Open();
        session.Load(Names("msdos"), ApproveAll.Instance);
        var item = Assert.Single(session.Unload(UnloadRequest.ForNames(["fat"]), new ScriptedDecider()).Items);
        Assert.Equal(["msdos"], Assert.IsType<ModuleInUseException>(item.Refusal).Holders);
        Assert.Equal("fat", item.Before!.Name);
        Assert.Equal(["fat", "msdos"], kernel.LoadedNames);
    }

    [Fact]
    public void UnloadWithUnusedDependenciesRemovesThemAndSaysWhatItCouldNot()
    {
        var (kernel, _, session) = Open();
        session.Load(Names("msdos"), ApproveAll.Instance);
        kernel.Fail("delete_module", "fat", ModuleErrno.EBUSY);
        var item = Assert.Single(session.Unload(UnloadRequest.ForNames(["msdos"], UnloadOptions.RemoveUnusedDependencies), new ScriptedDecider()).Items);
        Assert.True(item.Succeeded); // the dependency was optional
        var optional = Assert.Single(item.Execution!.OptionalFailures);
        Assert.Equal("fat", optional.Step.Module);
        Assert.Equal(FailureCause.Busy, optional.Error!.Cause);
        Assert.Equal("msdos", item.Before!.Name);
        Assert.Null(item.After);
        Assert.Equal(["fat"], kernel.LoadedNames);
    }

    [Fact]
    public void UnloadDeclinedForTheTargetLeavesItsDependenciesUnreachedAndUnasked()
    {
        var (kernel, _, session) = Open();
        session.Load(Names("msdos"), ApproveAll.Instance);
        var decider = new ScriptedDecider { Unload = _ => ChangeDecision.No };
        var item = Assert.Single(session.Unload(UnloadRequest.ForNames(["msdos"], UnloadOptions.RemoveUnusedDependencies), decider).Items);
        Assert.Equal(["unload msdos"], decider.Asked);
        Assert.Equal([StepStatus.Declined, StepStatus.NotReached], item.Execution!.Steps.Select(s => s.Status));
        Assert.Equal(["fat", "msdos"], kernel.LoadedNames);
        Assert.Equal("msdos", item.After!.Name);
    }

    [Fact]
    public void UnloadOfWhatIsNotLoadedIsANoOpThatStillUnpersists()
    {
        var (kernel, _, session) = Open();
        session.Load(LoadRequest.ForNames(["dummy"], options: LoadOptions.Persist), ApproveAll.Instance);
        session.Unload(UnloadRequest.ForNames(["dummy"]), ApproveAll.Instance);
        var calls = kernel.Calls.Count;
        var decider = new ScriptedDecider();
        var item = Assert.Single(session.Unload(UnloadRequest.ForNames(["dummy"], UnloadOptions.Persist), decider).Items);
        Assert.True(item.Plan!.IsNoOp);
        Assert.Equal(calls, kernel.Calls.Count);
        Assert.Equal([$"files dummy stop {_scratch}/etc/modules-load.d/dummy.conf"], decider.Asked);
        Assert.False(File.Exists(Path.Join(_scratch, "etc/modules-load.d/dummy.conf")));
        Assert.Null(item.Before);
    }

    [Fact]
    public void ForcedUnloadTellsTheDeciderWhichStepIsForced()
    {
        var (kernel, _, session) = Open();
        session.Load(Names("dummy"), ApproveAll.Instance);
        kernel.HoldUntilAttempts("dummy", 100);
        var decider = new ScriptedDecider();
        var item = Assert.Single(session.Unload(UnloadRequest.ForNames(["dummy"], UnloadOptions.SkipInUseCheck), decider).Items);
        Assert.True(item.Succeeded);
        Assert.Equal([true], decider.Forced);
        Assert.Empty(kernel.LoadedNames);
    }

    [Fact]
    public void AnInstallCommandThatExits124HasExitedItWasNotStopped()
    {
        var (_, _, session) = Open("install dummy exit 124\n", (_, _) => 124);
        var failure = Assert.IsType<ModuleCommandException>(Assert.Single(session.Load(Names("dummy"), ApproveAll.Instance).Items).Execution!.Failure);
        Assert.False(failure.TimedOut);
        Assert.Equal(124, failure.ExitCode);
        Assert.Equal("The install command for dummy ('exit 124') exited with 124.", failure.Message);

        var (_, _, slow) = Open("install dummy sleep 600\n", (_, _) => new ConfigCommandResult(null, TimedOut: true));
        var stopped = Assert.IsType<ModuleCommandException>(Assert.Single(slow.Load(Names("dummy"), ApproveAll.Instance).Items).Execution!.Failure);
        Assert.True(stopped.TimedOut);
        Assert.Null(stopped.ExitCode);
        Assert.StartsWith("The install command for dummy ('sleep 600') did not finish within 60 s and was stopped", stopped.Message);
    }

    /// <summary>Answers from functions (Yes by default) and records every question.</summary>
    private sealed class ScriptedDecider : IChangeDecider
    {
        public Func<LoadStep, ChangeDecision> Load { get; init; } = _ => ChangeDecision.Yes;
        public Func<UnloadStep, ChangeDecision> Unload { get; init; } = _ => ChangeDecision.Yes;
        public Func<ModuleNotFoundException, ChangeDecision> NothingToLoad { get; init; } = _ => ChangeDecision.Yes;

        /// <summary>Refuses the whole call at the first question (as the cmdlets' gate does under -Root).</summary>
        public bool StopAtFirst { get; init; }

        public List<string> Asked { get; } = [];
        public List<LoadStepRisk> Risks { get; } = [];
        public List<bool> Forced { get; } = [];
        public bool Stopped { get; private set; }

        /// <summary>What the decider was shown, in order: "builtin NAME" (never a question) and "load NAME" (a question).</summary>
        public List<string> Shown { get; } = [];

        public void ShowBuiltin(LoadStep step) => Shown.Add($"builtin {step.Module}");

        public ChangeDecision DecideLoad(LoadStep step, LoadStepRisk risk)
        {
            Shown.Add($"load {step.Module}");
            Asked.Add($"load {step.Module}");
            Risks.Add(risk);
            Stopped |= StopAtFirst;
            return Load(step);
        }

        public ChangeDecision DecideUnload(UnloadStep step, bool forced)
        {
            Asked.Add($"unload {step.Module}");
            Forced.Add(forced);
            return Unload(step);
        }

        public ChangeDecision DecideFiles(string module, IReadOnlyList<PersistedFile> changes, bool loadAtBoot)
        {
            Asked.Add($"files {module} {(loadAtBoot ? "load" : "stop")} {string.Join(" ", changes.Select(c => c.Path))}");
            return ChangeDecision.Yes;
        }

        public ChangeDecision DecideNothingToLoad(ModuleNotFoundException aliasToNothing) => NothingToLoad(aliasToNothing);
    }

    /// <summary>The fake kernel, counting how often the engine reads the whole list of loaded modules.</summary>
    private sealed class CountingKernel(FakeKernel inner) : IKernel
    {
        public int Snapshots { get; set; }

        public SystemRoot Root => inner.Root;
        public string? Release => inner.Release;
        public KernelTaint? Tainted => inner.Tainted;
        public bool CallerMayManageModules => inner.CallerMayManageModules;
        public bool SupportsModules => inner.SupportsModules;
        public string? ModulesUnsupportedReason => inner.ModulesUnsupportedReason;
        public string? Decompression => inner.Decompression;
        public bool SignaturesEnforced => inner.SignaturesEnforced;

        public IReadOnlyList<LoadedModule> GetLoadedModules()
        {
            Snapshots++;
            return inner.GetLoadedModules();
        }

        public LoadedModule? GetLoadedModule(string name) => inner.GetLoadedModule(name);
        public string[] ReadHolders(string name) => inner.ReadHolders(name);
        public IReadOnlyDictionary<string, string?>? ReadExports() => inner.ReadExports();
        public IKernelLog? OpenLog() => inner.OpenLog();
        public int FinitModule(SafeFileHandle file, string parameters, int flags) => inner.FinitModule(file, parameters, flags);
        public int InitModule(ReadOnlySpan<byte> image, string parameters) => inner.InitModule(image, parameters);
        public int DeleteModule(string name, int flags) => inner.DeleteModule(name, flags);
    }
}
