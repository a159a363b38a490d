using Xunit;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.Planner;

namespace LkmPowerShell.Engine.Tests.Loading;

/// <summary>
/// The write side (plan, execute, roll back, unload, persist) against <see cref="FakeKernel"/> on
/// the synthetic tree: the behaviour the QEMU bench proves on real kernels, here on any machine.
/// </summary>
public sealed class ModprobeSessionTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("lkm-session-").FullName;
    private readonly List<(string Command, string Module)> _commands = [];
    private readonly List<string> _progress = [];

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static ModuleDirectory Tree => PlannerTestKit.Tree;

    private (FakeKernel Kernel, ModprobeSession Session) Open(string config = "", TimeProvider? clock = null, Action<TimeSpan>? sleep = null)
    {
        var kernel = new FakeKernel(new SystemRoot(_scratch), Tree);
        var session = new ModprobeSession(kernel, Tree, ModprobeConfig.Parse(config, "test.conf", null), new ModprobeSessionOptions
        {
            RunCommand = (command, env) =>
            {
                _commands.Add((command, env["MODPROBE_MODULE"]));
                return command.StartsWith("false", StringComparison.Ordinal) ? 1 : 0;
            },
            Progress = _progress.Add,
            Clock = clock,
            Sleep = sleep,
        });
        return (kernel, session);
    }

    private static LoadExecution Load(ModprobeSession session, string name, string parameters = "") =>
        session.ExecuteLoad(session.PlanLoad(name, ModuleParameters.Parse(parameters)).Plan, new InsertOptions());

    // snd-dummy needs soundcore, snd, snd-timer and snd-pcm: a chain of five inserts.
    private static readonly string[] SndDummyChain = ["soundcore", "snd", "snd_timer", "snd_pcm", "snd_dummy"];

    [Fact]
    public void LoadingByNameLoadsTheDependenciesFirstAndKeepsUseCounts()
    {
        var (kernel, session) = Open();
        var result = Load(session, "msdos");
        Assert.True(result.Succeeded);
        Assert.Equal(["fat", "msdos"], kernel.LoadedNames);
        Assert.Equal(["finit_module(fat) = 0", "finit_module(msdos) = 0"], kernel.Calls);
        var fat = kernel.GetLoadedModule("fat")!;
        Assert.Equal(1, fat.ReferenceCount);
        Assert.Equal(["msdos"], fat.UsedBy);
        Assert.All(result.Steps, s => Assert.Equal(StepStatus.Changed, s.Status));
        Assert.True(result.ChangedKernel);
    }

    [Fact]
    public void ImportIsIdempotent()
    {
        var (kernel, session) = Open();
        Load(session, "msdos");
        var calls = kernel.Calls.Count;
        var again = session.PlanLoad("msdos", []);
        Assert.True(again.Plan.IsNoOp);
        var result = session.ExecuteLoad(again.Plan, new InsertOptions());
        Assert.True(result.Succeeded);
        Assert.False(result.ChangedKernel);
        Assert.All(result.Steps, s => Assert.Equal(StepStatus.NothingToDo, s.Status));
        Assert.Equal(calls, kernel.Calls.Count);
        Assert.Equal(["fat", "msdos"], kernel.LoadedNames);
    }

    public static IEnumerable<object[]> ChainPositions() => Enumerable.Range(0, 5).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(ChainPositions))]
    public void AChainFailingAtAnyPositionIsRolledBackCompletely(int failAt)
    {
        var (kernel, session) = Open();
        Load(session, "msdos"); // something loaded before must stay
        var plan = session.PlanLoad("snd-dummy", []).Plan;
        Assert.Equal(SndDummyChain, plan.Steps.Select(s => s.Module));
        kernel.Fail("insert", SndDummyChain[failAt], ModuleErrno.ENOMEM);

        var result = session.ExecuteLoad(plan, new InsertOptions());

        Assert.False(result.Succeeded);
        Assert.Equal(["fat", "msdos"], kernel.LoadedNames);
        var failure = Assert.IsType<ModuleLoadException>(result.Failure);
        Assert.Equal(SndDummyChain[failAt], failure.Module);
        Assert.Equal(FailureCause.OutOfMemory, failure.Cause);
        Assert.Equal(SndDummyChain[..failAt].Reverse(), result.RolledBack);
        Assert.Equal(result.RolledBack, failure.RolledBack);
        Assert.Empty(result.RollbackFailures);
        Assert.Equal(failAt == 0 ? "" : "Rolled back", failAt == 0 ? "" : failure.Message[failure.Message.IndexOf("Rolled back", StringComparison.Ordinal)..][..11]);
        Assert.Equal(Enumerable.Repeat(StepStatus.RolledBack, failAt), result.Steps.Take(failAt).Select(s => s.Status));
        Assert.Equal(StepStatus.Failed, result.Steps[failAt].Status);
        Assert.All(result.Steps.Skip(failAt + 1), s => Assert.Equal(StepStatus.NotReached, s.Status));
        // Rollback removes in reverse order of loading.
        Assert.Equal(SndDummyChain[..failAt].Reverse().Select(m => $"delete_module({m}) = 0"), kernel.Calls.Where(c => c.StartsWith("delete_module", StringComparison.Ordinal)));
    }

    [Fact]
    public void ARollbackThatFailsSaysWhatStaysLoaded()
    {
        var (kernel, session) = Open();
        var plan = session.PlanLoad("snd-dummy", []).Plan;
        kernel.Fail("insert", "snd_dummy", ModuleErrno.EINVAL).Fail("delete_module", "snd", ModuleErrno.EBUSY);
        var result = session.ExecuteLoad(plan, new InsertOptions());
        // snd stays, and so does soundcore, which snd still uses (the kernel refuses it, as it would).
        Assert.Equal(["snd_pcm", "snd_timer"], result.RolledBack);
        Assert.Equal(["snd", "soundcore"], result.RollbackFailures);
        Assert.Equal(["soundcore", "snd"], kernel.LoadedNames);
        Assert.Contains("delete_module(soundcore) = 11", kernel.Calls);
        Assert.Contains("Could not remove snd, soundcore again: they stay loaded.", result.Failure!.Message);
    }

    [Fact]
    public void AnInvalidParameterValueIsRefusedByTheKernelAndTheChainRolledBack()
    {
        var (kernel, session) = Open();
        var result = Load(session, "snd-dummy", "pcm_devs=notanumber");
        var failure = Assert.IsType<ModuleLoadException>(result.Failure);
        Assert.Equal(FailureCause.InvalidParameters, failure.Cause);
        Assert.Equal(ModuleErrno.EINVAL, failure.Errno);
        Assert.Contains("snd_dummy: 'notanumber' invalid for parameter 'pcm_devs'", failure.KernelMessages);
        Assert.Matches("Loading snd_dummy failed.*Invalid parameters.*The kernel logged: snd_dummy: 'notanumber' invalid.*Rolled back: removed snd_pcm, snd_timer, snd, soundcore again", failure.Message);
        Assert.Empty(kernel.LoadedNames);
    }

    [Fact]
    public void InsertingByPathWithoutItsDependencyFailsWithUnknownSymbolsAndPreflightNamesTheProvider()
    {
        var (kernel, session) = Open();
        var path = Tree.FindModule("msdos")!.Path;
        var file = LkmPowerShell.Engine.ModuleFiles.ModuleFileReader.Read(path);
        var refusal = session.Preflight(file, ignoreVersions: false);
        Assert.NotNull(refusal);
        Assert.Equal(RefusalReason.MissingSymbols, refusal.Reason);
        Assert.Equal(["fat"], refusal.Providers);
        Assert.Matches(@"msdos needs \d+ symbols that no loaded module exports, e\.g\. fat_.*exported by fat\.ko \(not loaded\)", refusal.Message);

        var result = session.ExecuteLoad(session.PlanInsert(path, []).Plan, new InsertOptions());
        var failure = Assert.IsType<ModuleLoadException>(result.Failure);
        Assert.Equal(FailureCause.UnknownSymbol, failure.Cause);
        Assert.Contains(failure.KernelMessages, l => l.StartsWith("msdos: Unknown symbol fat_", StringComparison.Ordinal));
        Assert.Empty(kernel.LoadedNames);

        Load(session, "fat");
        Assert.Null(session.Preflight(file, ignoreVersions: false));
    }

    [Fact]
    public void AModuleForAnotherReleaseIsRefusedUnlessTheVersionMagicIsIgnored()
    {
        var (kernel, session) = Open();
        kernel.Release = "9.9.9-other";
        var plan = session.PlanLoad("fat", []).Plan;
        var refused = session.ExecuteLoad(plan, new InsertOptions());
        Assert.Equal(FailureCause.InvalidFormat, refused.Failure!.Cause);
        Assert.Contains(((ModuleLoadException)refused.Failure).KernelMessages, l => l.Contains("version magic", StringComparison.Ordinal));
        var forced = session.ExecuteLoad(plan, new InsertOptions { IgnoreVermagic = true });
        Assert.True(forced.Succeeded);
        Assert.Equal(["fat"], kernel.LoadedNames);
    }

    [Fact]
    public void WithoutThePrivilegeNothingChanges()
    {
        var (kernel, session) = Open();
        kernel.CallerMayManageModules = false;
        Assert.IsType<ModulePrivilegeException>(KernelAccess.ChangeProblem(kernel));
        var result = Load(session, "msdos");
        Assert.Equal(FailureCause.NoPrivilege, result.Failure!.Cause);
        Assert.Equal("fat", result.Failure.Module);
        Assert.Empty(kernel.LoadedNames);
    }

    [Fact]
    public void AKernelWithoutModuleSupportIsRefusedBeforeAnyCall()
    {
        var (kernel, session) = Open();
        kernel.SupportsModules = false;
        Assert.IsType<KernelModulesUnsupportedException>(KernelAccess.ChangeProblem(kernel));
        Assert.Empty(kernel.Calls);
    }

    public static IEnumerable<object[]> InsertErrnos() =>
    [
        [ModuleErrno.EPERM, FailureCause.NoPrivilege, "EPERM"],
        [ModuleErrno.ENOENT, FailureCause.UnknownSymbol, "ENOENT"],
        [ModuleErrno.ESRCH, FailureCause.WrongSymbolVersion, "ESRCH"],
        [ModuleErrno.ENOEXEC, FailureCause.InvalidFormat, "ENOEXEC"],
        [ModuleErrno.ENOMEM, FailureCause.OutOfMemory, "ENOMEM"],
        [ModuleErrno.EACCES, FailureCause.AccessDenied, "EACCES"],
        [ModuleErrno.EBUSY, FailureCause.Busy, "EBUSY"],
        [ModuleErrno.EINVAL, FailureCause.InvalidParameters, "EINVAL"],
        [ModuleErrno.ENOSYS, FailureCause.NoModuleSupport, "ENOSYS"],
        [ModuleErrno.ENOKEY, FailureCause.KeyNotTrusted, "ENOKEY"],
        [ModuleErrno.EKEYREJECTED, FailureCause.SignatureRejected, "EKEYREJECTED"],
        [5, FailureCause.Other, "errno 5"], // EIO: nothing special, still named
    ];

    [Theory]
    [MemberData(nameof(InsertErrnos))]
    public void EveryLoadErrnoHasItsCauseAndNamesItself(int errno, FailureCause cause, string name)
    {
        var (kernel, session) = Open();
        kernel.Fail("insert", "dummy", errno, times: 5); // ENOSYS makes the loader retry with init_module: both answer it
        var result = Load(session, "dummy");
        var failure = Assert.IsType<ModuleLoadException>(result.Failure);
        Assert.Equal(cause, failure.Cause);
        Assert.Equal(errno, failure.Errno);
        Assert.StartsWith("Loading dummy failed: ", failure.Message);
        Assert.Contains(name, failure.Message);
        Assert.Empty(kernel.LoadedNames);
    }

    [Fact]
    public void EexistOnAStepMeansLoadedMeanwhileAndIsNotRolledBack()
    {
        var (kernel, session) = Open();
        var plan = session.PlanLoad("msdos", []).Plan;
        kernel.Fail("insert", "fat", ModuleErrno.EEXIST);
        var result = session.ExecuteLoad(plan, new InsertOptions());
        Assert.Equal(StepStatus.AlreadySo, result.Steps[0].Status);
        // fat is not really there in the fake, so msdos then fails: and fat, not ours, is not removed.
        Assert.Equal(FailureCause.UnknownSymbol, result.Failure!.Cause);
        Assert.Empty(result.RolledBack);
        Assert.DoesNotContain(kernel.Calls, c => c.StartsWith("delete_module", StringComparison.Ordinal));
    }

    public static IEnumerable<object[]> RemoveErrnos() =>
    [
        [ModuleErrno.EPERM, FailureCause.NoPrivilege, "EPERM"],
        [ModuleErrno.EBUSY, FailureCause.Busy, "EBUSY"],
        [ModuleErrno.EWOULDBLOCK, FailureCause.InUse, "in use"],
        [5, FailureCause.Other, "errno 5"],
    ];

    [Theory]
    [MemberData(nameof(RemoveErrnos))]
    public void EveryRemoveErrnoHasItsCauseAndSaysWhat(int errno, FailureCause cause, string text)
    {
        var (kernel, session) = Open();
        Load(session, "dummy");
        kernel.Fail("delete_module", "dummy", errno);
        var result = session.ExecuteUnload(session.PlanUnload("dummy").Plan, force: false, TimeSpan.Zero);
        var failure = Assert.IsType<ModuleRemoveException>(result.Failure);
        Assert.Equal(cause, failure.Cause);
        Assert.Equal(errno, failure.Errno);
        Assert.Contains(text, failure.Message);
        Assert.Equal(["dummy"], kernel.LoadedNames);
    }

    [Fact]
    public void RemovingAModuleInUseIsRefusedNamingItsUsers()
    {
        var (kernel, session) = Open();
        Load(session, "msdos");
        var e = Assert.Throws<ModuleInUseException>(() => session.PlanUnload("fat"));
        Assert.Equal(["msdos"], e.Holders);
        Assert.Equal("Module fat is in use by msdos.", e.Message);
        // And the kernel itself refuses it too, naming the holder.
        var direct = session.ExecuteUnload(new UnloadPlanner(session.Resolver, KernelSnapshot.Empty).PlanUnload("fat") is var p && p.Steps.Count == 1
            ? ForceStep(p, "fat") : p, force: false, TimeSpan.Zero);
        var failure = Assert.IsType<ModuleRemoveException>(direct.Failure);
        Assert.Equal(FailureCause.InUse, failure.Cause);
        Assert.Equal(["msdos"], failure.Holders);
        Assert.Equal("fat is in use by msdos.", failure.Message);
        Assert.Equal(["fat", "msdos"], kernel.LoadedNames);
    }

    /// <summary>A plan that removes <paramref name="module"/> as if it were loaded and unused (what a racing planner might see).</summary>
    private static UnloadPlan ForceStep(UnloadPlan plan, string module) =>
        new(plan.Query, plan.KernelVersion, [new UnloadStep(module, UnloadAction.Remove, false, UnloadRole.Target, null, null)], []);

    private sealed class VirtualClock : TimeProvider
    {
        public long Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
        public void Sleep(TimeSpan t) => Ticks += t.Ticks;
    }

    [Theory]
    [InlineData(3, 10, true)]   // lets go on the third attempt: well within the wait
    [InlineData(30, 2, false)]  // would let go after 6 s: a 2 s wait gives up
    [InlineData(2, 0, false)]   // no wait: the first EWOULDBLOCK is the answer
    public void TheUnloadWaitLoopRetriesUntilTheUseCountDropsOrTheTimeIsUp(int releaseAfter, int waitSeconds, bool removed)
    {
        var clock = new VirtualClock();
        var (kernel, session) = Open(clock: clock, sleep: clock.Sleep);
        Load(session, "dummy");
        var plan = session.PlanUnload("dummy").Plan; // unused when planned
        kernel.HoldUntilAttempts("dummy", releaseAfter); // then something takes a reference
        var result = session.ExecuteUnload(plan, force: false, TimeSpan.FromSeconds(waitSeconds));
        Assert.Equal(removed, result.Succeeded);
        Assert.Equal(removed ? [] : ["dummy"], kernel.LoadedNames);
        var attempts = result.Steps.Single().Attempts;
        if (removed)
            Assert.Equal(releaseAfter, attempts);
        else
        {
            Assert.Equal(waitSeconds * 5 + 1, attempts); // every 200 ms, and once at the start
            Assert.Equal(FailureCause.InUse, result.Failure!.Cause);
            Assert.Equal("dummy is in use (its use count is not zero).", result.Failure.Message);
        }
    }

    [Fact]
    public void ForcedRemovalOfAModuleInUseWorksAndTaints()
    {
        var (kernel, session) = Open();
        Load(session, "dummy");
        var plan = session.PlanUnload("dummy").Plan;
        kernel.HoldUntilAttempts("dummy", 100);
        var result = session.ExecuteUnload(plan, force: true, TimeSpan.Zero);
        Assert.True(result.Succeeded);
        Assert.Empty(kernel.LoadedNames);
        Assert.Contains('R', kernel.Tainted!.Letters);
    }

    [Fact]
    public void RemovingWithUnusedDependenciesRemovesThoseNothingElseUses()
    {
        var (kernel, session) = Open();
        Load(session, "msdos");
        Load(session, "vfat");
        var plan = session.PlanUnload("msdos", new UnloadPlanOptions { RemoveUnusedDependencies = true });
        Assert.Contains(plan.Warnings, w => w.Message == "fat (a dependency of msdos) stays loaded: vfat still uses it.");
        Assert.True(session.ExecuteUnload(plan.Plan, false, TimeSpan.Zero).Succeeded);
        Assert.Equal(["fat", "vfat"], kernel.LoadedNames);

        var last = session.ExecuteUnload(session.PlanUnload("vfat", new UnloadPlanOptions { RemoveUnusedDependencies = true }).Plan, false, TimeSpan.Zero);
        Assert.True(last.Succeeded);
        Assert.Equal(["vfat", "fat"], last.Steps.Select(s => s.Step.Module));
        Assert.Empty(kernel.LoadedNames);
    }

    [Fact]
    public void RemovingTwiceChangesTheKernelOnlyTheFirstTime()
    {
        var (kernel, session) = Open();
        Load(session, "msdos");
        UnloadExecution Remove() => session.ExecuteUnload(session.PlanUnload("msdos", new UnloadPlanOptions { RemoveUnusedDependencies = true }).Plan, false, TimeSpan.Zero);
        var first = Remove();
        Assert.True(first.ChangedKernel);
        Assert.Empty(kernel.LoadedNames);
        var calls = kernel.Calls.Count;
        var second = Remove();
        Assert.True(second.Succeeded);
        Assert.False(second.ChangedKernel);
        Assert.Equal(calls, kernel.Calls.Count);
    }

    [Fact]
    public void DeclinedStepsChangeNothingAndSayDeclined()
    {
        // -WhatIf (or a "no" to -Confirm) declines every step through the callback: no syscall, nothing changed.
        var (kernel, session) = Open();
        var result = session.ExecuteLoad(session.PlanLoad("msdos", []).Plan, new InsertOptions(), _ => false);
        Assert.All(result.Steps, s => Assert.Equal(StepStatus.Declined, s.Status));
        Assert.False(result.ChangedKernel);
        Assert.Empty(kernel.Calls);
    }

    [Fact]
    public void PersistPreviewUnderTheKernelsRootChangesNothing()
    {
        var (_, session) = Open();
        var preview = session.PreviewPersist("dummy", ModuleParameters.Parse("numdummies=2"));
        Assert.All(preview, f => Assert.StartsWith(_scratch, f.Path));
        Assert.All(preview, f => Assert.True(f.Changed));
        Assert.False(Directory.Exists(Path.Join(_scratch, "etc")));
        session.Persist("dummy", ModuleParameters.Parse("numdummies=2"));
        Assert.All(session.PreviewUnpersist("dummy"), f => Assert.Equal(PersistChange.Deleted, f.Change));
        Assert.True(File.Exists(Path.Join(_scratch, "etc/modules-load.d/dummy.conf")));
    }

    [Fact]
    public void RemovingWhatIsNotLoadedIsANoOp()
    {
        var (kernel, session) = Open();
        var plan = session.PlanUnload("msdos").Plan;
        Assert.True(plan.IsNoOp);
        var result = session.ExecuteUnload(plan, false, TimeSpan.Zero);
        Assert.True(result.Succeeded);
        Assert.False(result.ChangedKernel);
        Assert.Empty(kernel.Calls);
    }

    [Fact]
    public void SoftdepsAndInstallCommandsRunInKmodsOrder()
    {
        // pre-softdeps before the module, post after it; a module with an install command runs
        // the command instead of being inserted.
        var (kernel, session) = Open("softdep msdos pre: dummy post: loop\ninstall loop echo loop-by-command\n");
        var result = Load(session, "msdos");
        Assert.True(result.Succeeded);
        Assert.Equal(["fat", "dummy", "msdos", "loop"], result.Steps.Select(s => s.Step.Module));
        Assert.Equal(["finit_module(fat) = 0", "finit_module(dummy) = 0", "finit_module(msdos) = 0"], kernel.Calls);
        Assert.Equal([("echo loop-by-command", "loop")], _commands);
        Assert.Equal(["fat", "dummy", "msdos"], kernel.LoadedNames);
    }

    [Fact]
    public void AFailingOptionalSoftdepDoesNotStopTheLoad()
    {
        var (kernel, session) = Open("softdep msdos pre: dummy\n");
        kernel.Fail("insert", "dummy", ModuleErrno.ENOMEM);
        var result = Load(session, "msdos");
        Assert.True(result.Succeeded);
        Assert.Equal(StepStatus.Failed, result.Steps.Single(s => s.Step.Module == "dummy").Status);
        Assert.Equal(["fat", "msdos"], kernel.LoadedNames);
    }

    [Fact]
    public void AFailingInstallCommandFailsTheLoadAndRollsBack()
    {
        var (kernel, session) = Open("install msdos false\n");
        var result = Load(session, "msdos");
        var failure = Assert.IsType<ModuleCommandException>(result.Failure);
        Assert.Equal(FailureCause.CommandFailed, failure.Cause);
        Assert.Equal(1, failure.ExitCode);
        Assert.Equal(["fat"], result.RolledBack);
        Assert.Empty(kernel.LoadedNames);
    }

    [Fact]
    public void RemoveCommandsAndSoftdepsUnloadInReverse()
    {
        var (kernel, session) = Open("softdep msdos pre: dummy post: loop\nremove loop echo loop-removed\n");
        Load(session, "msdos");
        Assert.Equal(["fat", "dummy", "msdos", "loop"], kernel.LoadedNames);
        var result = session.ExecuteUnload(session.PlanUnload("msdos", new UnloadPlanOptions { RemoveUnusedDependencies = true }).Plan, false, TimeSpan.Zero);
        Assert.True(result.Succeeded);
        Assert.Equal(["loop", "msdos", "fat", "dummy"], result.Steps.Select(s => s.Step.Module));
        Assert.Contains(("echo loop-removed", "loop"), _commands);
        Assert.Equal(["loop"], kernel.LoadedNames); // its remove command ran instead of delete_module
    }

    [Fact]
    public void APlanWarnsAboutADifferentParameterOnALoadedModuleAndAnUndeclaredOne()
    {
        var (_, session) = Open();
        Load(session, "dummy", "numdummies=2");
        var again = session.PlanLoad("dummy", ModuleParameters.Parse("numdummies=5"));
        var w = Assert.Single(again.Warnings);
        Assert.Equal(PlanWarningKind.DifferentParameter, w.Kind);
        Assert.Equal("dummy is already loaded with numdummies=2, not 5; parameters only apply when a module is loaded.", w.Message);

        var undeclared = session.PlanLoad("loop", ModuleParameters.Parse("max_loop=2 no_such_knob=1"));
        var u = Assert.Single(undeclared.Warnings);
        Assert.Equal(PlanWarningKind.UndeclaredParameter, u.Kind);
        Assert.Equal("no_such_knob", u.Parameter);
    }

    [Fact]
    public void PersistWritesUnderTheKernelsRootWithTheCallersHeader()
    {
        var (_, session) = Open();
        var files = session.Persist("dummy", ModuleParameters.Parse("numdummies=2"));
        Assert.All(files, f => Assert.StartsWith(_scratch, f.Path));
        Assert.StartsWith(ModulePersistence.OwnerMark, File.ReadAllText(Path.Join(_scratch, "etc/modules-load.d/dummy.conf")));
        Assert.All(session.Unpersist("dummy"), f => Assert.Equal(PersistChange.Deleted, f.Change));
    }
}

/// <summary>The replay scenario against the fake kernel, on both Debian trees: the transcript the real kernels give in the guest.</summary>
[Trait("Layer", "Oracle")]
public sealed class ReplayScenarioTests
{
    public static string ExpectedPath =>
        Path.Combine(AppContext.BaseDirectory, "../../../../KernelBench/guest/Replay.expected.txt");

    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void TheFakeKernelGivesTheExpectedTranscript(string flavour)
    {
        var fixture = KernelFixtures.Load(flavour);
        var tree = ModuleDirectory.Open(new SystemRoot(fixture.Root), fixture.Version);
        var scratch = Directory.CreateTempSubdirectory("lkm-replay-").FullName;
        try
        {
            var kernel = new FakeKernel(new SystemRoot(scratch), tree) { Decompression = flavour == "xz" ? "xz" : null };
            var transcript = ReplayScenario.Run(kernel, tree);
            Assert.Equal(File.ReadAllLines(ExpectedPath), transcript);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}

/// <summary>The same replay on the synthetic tree: the fake keeps the real kernels' transcript without Debian's files.</summary>
public sealed class ReplayScenarioSyntheticTests
{
    [Fact]
    public void TheFakeKernelGivesTheExpectedTranscriptOnTheSyntheticTree()
    {
        var tree = TestKit.SyntheticTree.Shared.Tree;
        var scratch = Directory.CreateTempSubdirectory("lkm-replay-").FullName;
        try
        {
            var transcript = ReplayScenario.Run(new FakeKernel(new SystemRoot(scratch), tree), tree);
            Assert.Equal(File.ReadAllLines(ReplayScenarioTests.ExpectedPath), transcript);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
