using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>What became of the boot-time files of one target (-Persist).</summary>
public sealed record PersistOutcome
{
    /// <summary>The files written or deleted (or left as they were), with what happened to each.</summary>
    public IReadOnlyList<PersistedFile> Files { get; init; } = [];

    /// <summary>The files already said so: nothing was asked and nothing written.</summary>
    public bool NothingToDo { get; init; }

    /// <summary>The decider said no (or it was a dry run).</summary>
    public bool Declined { get; init; }

    /// <summary>Why the files could not be written: a <see cref="PersistenceConflictException"/>, an IOException or an UnauthorizedAccessException.</summary>
    public Exception? Failure { get; init; }

    public bool Changed => Files.Any(f => f.Changed);
}

/// <summary>One name (or the path) of a load request, and all that became of it.</summary>
public sealed record LoadOutcome
{
    /// <summary>The name, alias or path as asked.</summary>
    public required string Query { get; init; }

    /// <summary>The plan that was carried out (after -IgnoreDisabled re-planned it); null when none could be made.</summary>
    public LoadPlan? Plan { get; init; }

    public IReadOnlyList<PlanWarning> Warnings { get; init; } = [];

    /// <summary>The modules of the plan that modprobe.d disables (loaded anyway only with <see cref="LoadOptions.IgnoreDisabled"/>).</summary>
    public IReadOnlyList<ModuleLoadBlock> Disabled { get; init; } = [];

    /// <summary>
    /// Why nothing was done for this query, before any change: a <see cref="ModulePlanException"/>
    /// (not found, blacklisted, <see cref="ModuleDisabledException"/>), a <see cref="ModuleWouldBeRefusedException"/>
    /// (a path the kernel would refuse), or a file that could not be read (IOException,
    /// UnauthorizedAccessException, ModuleFormatException).
    /// </summary>
    public Exception? Refusal { get; init; }

    /// <summary>A modprobe.d alias to a module that is not installed, in a dry run: nothing to load, which is a warning, not an error.</summary>
    public ModuleNotFoundException? NothingToLoad { get; init; }

    /// <summary>The steps carried out, with rollback; null when there was nothing to run.</summary>
    public LoadExecution? Execution { get; init; }

    /// <summary>-Persist's files; null when not asked or not reached.</summary>
    public PersistOutcome? Persisted { get; init; }

    /// <summary>The target modules as loaded afterwards (what -PassThru shows).</summary>
    public IReadOnlyList<LoadedModule> Final { get; init; } = [];

    /// <summary>The call stopped before this query (the decider refused every change).</summary>
    public bool NotReached { get; init; }

    /// <summary>Whether the kernel or a boot-time file is different afterwards.</summary>
    public bool Changed => (Execution?.ChangedKernel ?? false) || (Persisted?.Changed ?? false);

    public bool Succeeded => Refusal is null && (Execution?.Succeeded ?? true) && Persisted?.Failure is null && !NotReached;
}

/// <summary>What one load call did: an outcome per query, in order, and why the call stopped when it did.</summary>
public sealed record LoadReport(IReadOnlyList<LoadOutcome> Items, Exception? Stopped)
{
    public bool Succeeded => Stopped is null && Items.All(i => i.Succeeded);
}

/// <summary>One name of an unload request, and all that became of it.</summary>
public sealed record UnloadOutcome
{
    public required string Query { get; init; }

    /// <summary>The module's name as the kernel knows it.</summary>
    public required string Module { get; init; }

    public UnloadPlan? Plan { get; init; }
    public IReadOnlyList<PlanWarning> Warnings { get; init; } = [];

    /// <summary>Why nothing was done: a <see cref="ModulePlanException"/> (in use, built in, not a name) or an index that could not be read.</summary>
    public Exception? Refusal { get; init; }

    public UnloadExecution? Execution { get; init; }
    public PersistOutcome? Persisted { get; init; }

    /// <summary>The module as it was loaded before the call; null when it was not loaded.</summary>
    public LoadedModule? Before { get; init; }

    /// <summary>The module as loaded afterwards; null when it is gone.</summary>
    public LoadedModule? After { get; init; }

    public bool NotReached { get; init; }

    public bool Changed => (Execution?.ChangedKernel ?? false) || (Persisted?.Changed ?? false);

    public bool Succeeded => Refusal is null && (Execution?.Succeeded ?? true) && Persisted?.Failure is null && !NotReached;
}

/// <summary>What one unload call did: an outcome per name, in order, and why the call stopped when it did.</summary>
public sealed record UnloadReport(IReadOnlyList<UnloadOutcome> Items, Exception? Stopped)
{
    public bool Succeeded => Stopped is null && Items.All(i => i.Succeeded);
}
