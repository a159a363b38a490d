using System.Diagnostics;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>What happened to one step of a load plan.</summary>
public sealed record LoadStepOutcome(LoadStep Step, bool Succeeded, string Message, InsertMethod? Method = null);

public sealed class LoadExecutionResult
{
    public required IReadOnlyList<LoadStepOutcome> Outcomes { get; init; }

    /// <summary>Modules this call inserted and left loaded, in load order.</summary>
    public required IReadOnlyList<string> Inserted { get; init; }

    /// <summary>Modules this call inserted and then removed again because a later required step failed.</summary>
    public required IReadOnlyList<string> RolledBack { get; init; }

    /// <summary>Modules that rollback could not remove (the kernel state then differs from before; the error says so).</summary>
    public required IReadOnlyList<string> RollbackFailures { get; init; }

    public LoadStepOutcome? Failure { get; init; }
    public bool Succeeded => Failure is null;
}

/// <summary>
/// Carries out a <see cref="LoadPlan"/> against the running kernel: each step in order, softdep
/// failures as warnings, EEXIST on a dependency ignored (another loader won the race, as kmod
/// does), and when a required step fails, every module this call inserted is removed again in
/// reverse order, so the kernel is left as it was found. kmod leaves them loaded.
/// </summary>
public sealed class LoadExecutor(ModuleLoader loader, Action<string>? verbose = null, Action<string>? warning = null)
{
    private const int EEXIST = 17;

    /// <summary>How long an install command may run before it is stopped.</summary>
    public TimeSpan CommandTimeout { get; init; } = ConfigCommand.DefaultTimeout;

    public LoadExecutionResult Execute(LoadPlan plan, InsertOptions options, Func<LoadStep, bool>? shouldRun = null, CancellationToken cancel = default)
    {
        var outcomes = new List<LoadStepOutcome>();
        var inserted = new List<string>();
        LoadStepOutcome? failure = null;
        foreach (var step in plan.Steps)
        {
            if (cancel.IsCancellationRequested)
            {
                failure = new LoadStepOutcome(step, false, "stopped before this step");
                break;
            }
            if (!step.ChangesKernel)
            {
                verbose?.Invoke($"{step.Module}: {(step.Action == LoadAction.Builtin ? "built into the kernel" : "already loaded")} ({step.Reason}); nothing to do.");
                continue;
            }
            if (shouldRun is not null && !shouldRun(step))
                continue;

            var outcome = step.Action == LoadAction.RunInstallCommand ? RunInstallCommand(step) : Insert(step, options);
            if (outcome.Succeeded && step.Action == LoadAction.Insert && outcome.Method is not null)
                inserted.Add(step.Module);
            outcomes.Add(outcome);
            if (outcome.Succeeded)
                continue;
            if (step.Optional)
            {
                warning?.Invoke($"{outcome.Message} It was optional ({step.Reason}), so loading goes on.");
                continue;
            }
            failure = outcome;
            break;
        }

        var rolledBack = new List<string>();
        var rollbackFailures = new List<string>();
        if (failure is not null)
        {
            for (var i = inserted.Count - 1; i >= 0; i--)
            {
                var errno = loader.Remove(inserted[i], force: false);
                verbose?.Invoke($"rollback: delete_module({inserted[i]}) = {(errno == 0 ? "0" : "errno " + errno)}");
                (errno == 0 ? rolledBack : rollbackFailures).Add(inserted[i]);
            }
            inserted.Clear();
        }
        return new LoadExecutionResult { Outcomes = outcomes, Inserted = inserted, RolledBack = rolledBack, RollbackFailures = rollbackFailures, Failure = failure };
    }

    private LoadStepOutcome Insert(LoadStep step, InsertOptions options)
    {
        var parameters = step.Parameters?.Trim() ?? "";
        verbose?.Invoke($"insert {step.Path} {parameters} ({step.Reason})");
        var result = loader.Insert(step.Path!, options with { Parameters = parameters });
        verbose?.Invoke($"{result.Method}({step.Module}) = {(result.Succeeded ? "0" : "errno " + result.Errno)}");
        if (result.Succeeded)
            return new LoadStepOutcome(step, true, $"{step.Module} loaded ({step.Reason}).", result.Method);
        if (result.Errno == EEXIST)
            // Already there: loaded meanwhile by someone else. Not ours to roll back.
            return new LoadStepOutcome(step, true, $"{step.Module} was loaded meanwhile by someone else.");
        return new LoadStepOutcome(step, false, LoadErrorText.ForInsert(step.Module, result.Errno, result.KernelMessages), result.Method);
    }

    private LoadStepOutcome RunInstallCommand(LoadStep step)
    {
        var command = step.CommandLine ?? step.InstallCommand ?? "";
        verbose?.Invoke($"install command for {step.Module}: /bin/sh -c {command}");
        var result = ConfigCommand.Run(command,
            new Dictionary<string, string> { ["MODPROBE_MODULE"] = step.Module, ["CMDLINE_OPTS"] = step.Parameters ?? "" }, CommandTimeout);
        return result.Succeeded
            ? new LoadStepOutcome(step, true, $"install command for {step.Module} ran.")
            : new LoadStepOutcome(step, false, ConfigCommand.Describe("install", step.Module, command, result, CommandTimeout));
    }
}
