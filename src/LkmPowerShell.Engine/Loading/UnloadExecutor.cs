using System.Diagnostics;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

public sealed record UnloadStepOutcome(UnloadStep Step, bool Succeeded, string Message);

/// <summary>
/// Carries out an <see cref="UnloadPlan"/>: delete_module for each step (optional steps' failures
/// are notes, not errors), remove commands through /bin/sh, and, when asked, a bounded wait for a
/// module whose use count is still dropping.
/// </summary>
public sealed class UnloadExecutor(ModuleLoader loader, RunningKernel kernel, Action<string>? verbose = null)
{
    private const int ENOENT = 2, EWOULDBLOCK = 11;

    /// <summary>How long a remove command may run before it is stopped.</summary>
    public TimeSpan CommandTimeout { get; init; } = ConfigCommand.DefaultTimeout;

    public IReadOnlyList<UnloadStepOutcome> Execute(UnloadPlan plan, bool force, TimeSpan wait, Func<UnloadStep, bool>? shouldRun = null)
    {
        var outcomes = new List<UnloadStepOutcome>();
        foreach (var step in plan.Steps)
        {
            if (!step.ChangesKernel)
            {
                verbose?.Invoke($"{step.Module}: not loaded; nothing to do.");
                continue;
            }
            if (shouldRun is not null && !shouldRun(step))
                continue;
            var outcome = step.Action == UnloadAction.RunRemoveCommand ? RunRemoveCommand(step) : Remove(step, force, wait);
            outcomes.Add(outcome);
            if (!outcome.Succeeded && !step.Optional)
                break;
        }
        return outcomes;
    }

    private UnloadStepOutcome Remove(UnloadStep step, bool force, TimeSpan wait)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var errno = loader.Remove(step.Module, force);
            verbose?.Invoke($"delete_module({step.Module}{(force ? ", O_TRUNC" : "")}) = {(errno == 0 ? "0" : "errno " + errno)}");
            if (errno == 0)
                return new UnloadStepOutcome(step, true, $"{step.Module} removed ({step.Reason}).");
            if (errno == ENOENT)
                return new UnloadStepOutcome(step, true, $"{step.Module} was already gone.");
            if (errno == EWOULDBLOCK && deadline.Elapsed < wait)
            {
                Thread.Sleep(200);
                continue;
            }
            var holders = kernel.SysModules.ReadHolders(step.Module);
            return new UnloadStepOutcome(step, false, LoadErrorText.ForRemove(step.Module, errno, holders));
        }
    }

    private UnloadStepOutcome RunRemoveCommand(UnloadStep step)
    {
        var result = ConfigCommand.Run(step.Command ?? "", new Dictionary<string, string> { ["MODPROBE_MODULE"] = step.Module }, CommandTimeout);
        return new UnloadStepOutcome(step, result.Succeeded, result.Succeeded
            ? $"remove command for {step.Module} ran."
            : ConfigCommand.Describe("remove", step.Module, step.Command ?? "", result, CommandTimeout));
    }
}
