namespace LkmPowerShell.Engine.Planner;

/// <summary>What an unload step does.</summary>
public enum UnloadAction
{
    /// <summary>delete_module.</summary>
    Remove,
    /// <summary>Run the modprobe.d remove command (/bin/sh -c, MODPROBE_MODULE set) instead of the syscall.</summary>
    RunRemoveCommand,
    /// <summary>Not loaded: nothing to do, success (modprobe -r is silent about it).</summary>
    AlreadyAbsent,
}

/// <summary>Why a module is in the unload plan.</summary>
public enum UnloadRole
{
    Target,
    /// <summary>A loaded module that uses the target (only with RemoveHolders).</summary>
    Holder,
    /// <summary>A dependency of the target that nothing else uses once the target is gone.</summary>
    UnusedDependency,
    SoftdepPre,
    SoftdepPost,
}

/// <summary>One step of an unload plan, in execution order.</summary>
/// <param name="Module">The module's name.</param>
/// <param name="Action">What to do.</param>
/// <param name="Role">Why the module is in the plan.</param>
/// <param name="Of">The module this one is a holder, dependency or soft dependency of; null for the target.</param>
/// <param name="Optional">kmod ignores failures of this step (unused dependencies and soft dependencies).</param>
/// <param name="Command">The remove command as configured, for <see cref="UnloadAction.RunRemoveCommand"/>.</param>
public sealed record UnloadStep(string Module, UnloadAction Action, bool Optional, UnloadRole Role, string? Of, string? Command)
{
    public string Reason => Role switch
    {
        UnloadRole.Target => "target",
        UnloadRole.Holder => $"holder of {Of}",
        UnloadRole.UnusedDependency => $"unused dependency of {Of}",
        UnloadRole.SoftdepPre => $"softdep pre of {Of}",
        _ => $"softdep post of {Of}",
    };

    public bool ChangesKernel => Action != UnloadAction.AlreadyAbsent;

    /// <summary>What <c>modprobe -r -n -v</c> prints for the step: <c>rmmod NAME</c> or <c>remove COMMAND</c>.</summary>
    public string? ToModprobeLine() => Action switch
    {
        UnloadAction.Remove => $"rmmod {Module}",
        UnloadAction.RunRemoveCommand => $"remove {Command}",
        _ => null,
    };

    public override string ToString() => $"{Action} {Module} ({Reason}{(Optional ? ", optional" : "")})";
}
