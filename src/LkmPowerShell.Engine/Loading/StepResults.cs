using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>What became of one step of a plan.</summary>
public enum StepStatus
{
    /// <summary>Nothing to do: already loaded, built in, or not loaded (for an unload).</summary>
    NothingToDo,
    /// <summary>The caller declined it (confirmation, or a dry run).</summary>
    Declined,
    /// <summary>Done: the kernel changed (a module loaded or removed, a command ran).</summary>
    Changed,
    /// <summary>Done, then undone because a later required step failed.</summary>
    RolledBack,
    /// <summary>Already so when it ran: loaded meanwhile by someone else (EEXIST), or gone already (ENOENT).</summary>
    AlreadySo,
    /// <summary>Failed; an optional step's failure does not stop the plan.</summary>
    Failed,
    /// <summary>Not reached: an earlier step failed, or the call was stopped.</summary>
    NotReached,
}

/// <summary>One step of a load plan and what became of it.</summary>
/// <remarks><paramref name="Method"/>: The syscall used, for an insert that reached the kernel.</remarks>
/// <remarks><paramref name="Errno"/>: The syscall's errno when it failed.</remarks>
/// <remarks><paramref name="KernelMessages"/>: What the kernel logged during the step.</remarks>
/// <remarks><paramref name="Error"/>: Why it failed, as facts.</remarks>
public sealed record LoadStepResult(LoadStep Step, StepStatus Status, InsertMethod? Method = null, int? Errno = null,
    IReadOnlyList<string>? KernelMessages = null, ModuleOperationException? Error = null)
{
    public bool Changed => Status == StepStatus.Changed;
}

/// <summary>A load plan carried out.</summary>
public sealed class LoadExecution
{
    public required IReadOnlyList<LoadStepResult> Steps { get; init; }

    /// <summary>The required step that failed (its exception lists what was rolled back); null on success.</summary>
    public ModuleOperationException? Failure { get; init; }

    /// <summary>Modules this call loaded and then removed again because a later required step failed, newest first.</summary>
    public required IReadOnlyList<string> RolledBack { get; init; }

    /// <summary>Modules rollback could not remove: the kernel differs from before, and the failure says so.</summary>
    public required IReadOnlyList<string> RollbackFailures { get; init; }

    public bool Succeeded => Failure is null;

    /// <summary>Whether the kernel is different afterwards.</summary>
    public bool ChangedKernel => Steps.Any(s => s.Changed);
}

/// <summary>One step of an unload plan and what became of it.</summary>
public sealed record UnloadStepResult(UnloadStep Step, StepStatus Status, int? Errno = null, int Attempts = 0, ModuleOperationException? Error = null)
{
    public bool Changed => Status == StepStatus.Changed;
}

/// <summary>An unload plan carried out.</summary>
public sealed class UnloadExecution
{
    public required IReadOnlyList<UnloadStepResult> Steps { get; init; }

    /// <summary>The required step that failed; null when every required step succeeded.</summary>
    public ModuleOperationException? Failure => Steps.FirstOrDefault(s => s.Status == StepStatus.Failed && !s.Step.Optional)?.Error;

    /// <summary>Optional steps that failed (an unused dependency still in use elsewhere): notes, not errors.</summary>
    public IEnumerable<UnloadStepResult> OptionalFailures => Steps.Where(s => s.Status == StepStatus.Failed && s.Step.Optional);

    public bool Succeeded => Failure is null;
    public bool ChangedKernel => Steps.Any(s => s.Changed);
}
