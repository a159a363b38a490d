using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// Carries out a <see cref="LoadPlan"/>: each step in order, optional (softdep) failures noted
/// and passed over, EEXIST on a step taken as "loaded meanwhile by someone else" (as kmod does),
/// and when a required step fails, every module this call inserted is removed again in reverse
/// order, so the kernel is left as it was found. kmod leaves them loaded. A step the caller
/// declines (<see cref="ChangeDecision.No"/>) is not there for the steps that need it: those are
/// not reached, and not asked about.
/// </summary>
internal sealed class LoadExecutor(ModuleLoader loader, CommandRunner? runCommand = null, Action<string>? progress = null)
{
    private readonly CommandRunner _runCommand = runCommand ?? ModprobeCommandRunner.Run;

    /// <remarks><paramref name="shouldRun"/>: Asked before each step that changes the kernel; false skips it (declined), as a dry run does.</remarks>
    public LoadExecution Execute(LoadPlan plan, InsertOptions options, Func<LoadStep, bool>? shouldRun = null, CancellationToken cancel = default) =>
        Execute(plan, options, shouldRun is null ? null : step => shouldRun(step) ? ChangeDecision.Yes : ChangeDecision.DryRun, cancel);

    /// <remarks><paramref name="decide"/>: Asked before each step that changes the kernel, unless a step it needs was declined.</remarks>
    /// <remarks><paramref name="builtin"/>: Told of each step whose module is built in, in its place among the steps.</remarks>
    public LoadExecution Execute(LoadPlan plan, InsertOptions options, Func<LoadStep, ChangeDecision>? decide, CancellationToken cancel = default, Action<LoadStep>? builtin = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var results = new List<LoadStepResult>();
        var missing = new HashSet<string>(StringComparer.Ordinal); // modules declined, or not reached because of that
        var insertedAt = new List<int>(); // indexes into results of modules this call loaded
        ModuleOperationException? failure = null;
        foreach (var step in plan.Steps)
        {
            if (failure is not null)
            {
                results.Add(new LoadStepResult(step, StepStatus.NotReached));
                continue;
            }
            if (!step.ChangesKernel)
            {
                progress?.Invoke($"{step.Module}: {(step.Action == LoadAction.Builtin ? "built into the kernel" : "already loaded")} ({step.Reason}); nothing to do.");
                if (step.Action == LoadAction.Builtin)
                    builtin?.Invoke(step);
                results.Add(new LoadStepResult(step, StepStatus.NothingToDo));
                continue;
            }
            if (cancel.IsCancellationRequested)
            {
                failure = new ModuleStepStoppedException(step.Module);
                results.Add(new LoadStepResult(step, StepStatus.NotReached, Error: failure));
                continue;
            }
            if (step.Needs.FirstOrDefault(missing.Contains) is { } absent)
            {
                progress?.Invoke($"{step.Module} ({step.Reason}) is not loaded: it needs {absent}, which was declined.");
                missing.Add(step.Module);
                results.Add(new LoadStepResult(step, StepStatus.NotReached));
                continue;
            }
            if (decide?.Invoke(step) is { } decision and not ChangeDecision.Yes)
            {
                if (decision == ChangeDecision.No)
                    missing.Add(step.Module);
                results.Add(new LoadStepResult(step, StepStatus.Declined));
                continue;
            }

            var result = step.Action == LoadAction.RunInstallCommand ? RunInstallCommand(step) : Insert(step, options);
            if (result.Changed && step.Action == LoadAction.Insert)
                insertedAt.Add(results.Count);
            results.Add(result);
            if (result.Status != StepStatus.Failed)
                continue;
            if (step.Optional)
            {
                progress?.Invoke($"{result.Error!.Message} It was optional ({step.Reason}), so loading goes on.");
                continue;
            }
            failure = result.Error;
        }

        var rolledBack = new List<string>();
        var rollbackFailures = new List<string>();
        if (failure is not null)
        {
            for (var i = insertedAt.Count - 1; i >= 0; i--)
            {
                var done = results[insertedAt[i]];
                var errno = loader.Remove(done.Step.Module, force: false);
                progress?.Invoke($"rollback: delete_module({done.Step.Module}) = {(errno == 0 ? "0" : "errno " + errno)}");
                if (errno == 0)
                {
                    rolledBack.Add(done.Step.Module);
                    results[insertedAt[i]] = done with { Status = StepStatus.RolledBack };
                }
                else
                {
                    rollbackFailures.Add(done.Step.Module);
                }
            }
            if (failure is ModuleLoadException load)
            {
                load.RolledBack = rolledBack;
                load.RollbackFailures = rollbackFailures;
            }
        }
        return new LoadExecution { Steps = results, Failure = failure, RolledBack = rolledBack, RollbackFailures = rollbackFailures };
    }

    private LoadStepResult Insert(LoadStep step, InsertOptions options)
    {
        var parameters = step.Parameters?.Trim() ?? "";
        progress?.Invoke($"insert {step.Path} {parameters} ({step.Reason})");
        var outcome = loader.Insert(step.Path!, options with { Parameters = parameters });
        progress?.Invoke($"{outcome.Method}({step.Module}) = {(outcome.Succeeded ? "0" : "errno " + outcome.Errno)}");
        if (outcome.Succeeded)
        {
            progress?.Invoke($"{step.Module} loaded ({step.Reason}).");
            return new LoadStepResult(step, StepStatus.Changed, outcome.Method, KernelMessages: outcome.KernelMessages);
        }
        if (outcome.Errno == ModuleErrno.EEXIST)
        {
            // Already there: loaded meanwhile by someone else. Not ours to roll back.
            progress?.Invoke($"{step.Module} was loaded meanwhile by someone else.");
            return new LoadStepResult(step, StepStatus.AlreadySo, outcome.Method, outcome.Errno, outcome.KernelMessages);
        }
        return new LoadStepResult(step, StepStatus.Failed, outcome.Method, outcome.Errno, outcome.KernelMessages,
            new ModuleLoadException(step, outcome.Errno, outcome.Method, outcome.KernelMessages));
    }

    private LoadStepResult RunInstallCommand(LoadStep step)
    {
        var command = step.CommandLine ?? step.InstallCommand ?? "";
        progress?.Invoke($"install command for {step.Module}: /bin/sh -c {command}");
        var result = _runCommand(command, new Dictionary<string, string>
        {
            ["MODPROBE_MODULE"] = step.Module,
            ["CMDLINE_OPTS"] = step.Parameters ?? "",
        });
        if (result.Succeeded)
        {
            progress?.Invoke($"install command for {step.Module} ran.");
            return new LoadStepResult(step, StepStatus.Changed);
        }
        return new LoadStepResult(step, StepStatus.Failed, Error: new ModuleCommandException(step.Module, command, result, isRemove: false));
    }
}
