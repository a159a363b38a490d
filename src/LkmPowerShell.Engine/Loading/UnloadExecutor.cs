using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// Carries out an <see cref="UnloadPlan"/>: delete_module for each step (optional steps' failures
/// are notes, not errors), remove commands through the command runner, and, when asked, a bounded
/// wait for a module whose use count is still dropping. A required step the caller declines
/// (<see cref="ChangeDecision.No"/>) ends the plan there: every later step needs it gone first
/// (holders before the target, the target before its dependencies).
/// </summary>
internal sealed class UnloadExecutor(ModuleLoader loader, CommandRunner? runCommand = null, Action<string>? progress = null, TimeProvider? clock = null, Action<TimeSpan>? sleep = null)
{
    /// <summary>How often delete_module is retried while waiting.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(200);

    private readonly CommandRunner _runCommand = runCommand ?? ModprobeCommandRunner.Run;
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Action<TimeSpan> _sleep = sleep ?? Thread.Sleep;

    private IKernel Kernel => loader.Kernel;

    /// <remarks><paramref name="force"/>: delete_module with O_TRUNC.</remarks>
    /// <remarks><paramref name="wait"/>: How long to keep retrying a module that is still in use (EWOULDBLOCK).</remarks>
    /// <remarks><paramref name="shouldRun"/>: Asked before each step that changes the kernel; false skips it (declined), as a dry run does.</remarks>
    public UnloadExecution Execute(UnloadPlan plan, bool force, TimeSpan wait, Func<UnloadStep, bool>? shouldRun = null) =>
        Execute(plan, force, wait, shouldRun is null ? null : step => shouldRun(step) ? ChangeDecision.Yes : ChangeDecision.DryRun);

    /// <remarks><paramref name="decide"/>: Asked before each step that changes the kernel.</remarks>
    public UnloadExecution Execute(UnloadPlan plan, bool force, TimeSpan wait, Func<UnloadStep, ChangeDecision>? decide)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var results = new List<UnloadStepResult>();
        var stopped = false;
        foreach (var step in plan.Steps)
        {
            if (stopped)
            {
                results.Add(new UnloadStepResult(step, StepStatus.NotReached));
                continue;
            }
            if (!step.ChangesKernel)
            {
                progress?.Invoke($"{step.Module}: not loaded; nothing to do.");
                results.Add(new UnloadStepResult(step, StepStatus.NothingToDo));
                continue;
            }
            if (decide?.Invoke(step) is { } decision and not ChangeDecision.Yes)
            {
                results.Add(new UnloadStepResult(step, StepStatus.Declined));
                stopped = decision == ChangeDecision.No && !step.Optional;
                continue;
            }
            var result = step.Action == UnloadAction.RunRemoveCommand ? RunRemoveCommand(step) : Remove(step, force, wait);
            results.Add(result);
            if (result.Status == StepStatus.Failed)
            {
                if (step.Optional)
                    progress?.Invoke($"{result.Error!.Message} (optional: {step.Reason})");
                else
                    stopped = true;
            }
        }
        return new UnloadExecution { Steps = results };
    }

    private UnloadStepResult Remove(UnloadStep step, bool force, TimeSpan wait)
    {
        var start = _clock.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            var errno = loader.Remove(step.Module, force);
            progress?.Invoke($"delete_module({step.Module}{(force ? ", O_TRUNC" : "")}) = {(errno == 0 ? "0" : "errno " + errno)}");
            if (errno == 0)
            {
                progress?.Invoke($"{step.Module} removed ({step.Reason}).");
                return new UnloadStepResult(step, StepStatus.Changed, Attempts: attempt);
            }
            if (errno == ModuleErrno.ENOENT)
            {
                progress?.Invoke($"{step.Module} was already gone.");
                return new UnloadStepResult(step, StepStatus.AlreadySo, errno, attempt);
            }
            if (errno == ModuleErrno.EWOULDBLOCK && _clock.GetElapsedTime(start) < wait)
            {
                _sleep(RetryInterval);
                continue;
            }
            return new UnloadStepResult(step, StepStatus.Failed, errno, attempt, new ModuleRemoveException(step, errno, Kernel.ReadHolders(step.Module)));
        }
    }

    private UnloadStepResult RunRemoveCommand(UnloadStep step)
    {
        var result = _runCommand(step.Command ?? "", new Dictionary<string, string> { ["MODPROBE_MODULE"] = step.Module });
        if (result.Succeeded)
        {
            progress?.Invoke($"remove command for {step.Module} ran.");
            return new UnloadStepResult(step, StepStatus.Changed);
        }
        return new UnloadStepResult(step, StepStatus.Failed, Error: new ModuleCommandException(step.Module, step.Command ?? "", result, isRemove: true));
    }
}
