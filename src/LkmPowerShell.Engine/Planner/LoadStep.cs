namespace LkmPowerShell.Engine.Planner;

/// <summary>What a load step does.</summary>
public enum LoadAction
{
    /// <summary>init_module / finit_module on <see cref="LoadStep.Path"/>.</summary>
    Insert,
    /// <summary>Run the modprobe.d install command (/bin/sh -c, MODPROBE_MODULE set) instead of the syscall.</summary>
    RunInstallCommand,
    /// <summary>Already live in the kernel (or loaded by an earlier step): nothing to do, as modprobe skips it silently.</summary>
    AlreadyLoaded,
    /// <summary>Built into the kernel image: nothing to do.</summary>
    Builtin,
    /// <summary>Named (by a soft dependency or an alias) but not installed and not built in; only ever optional.</summary>
    Unavailable,
}

/// <summary>Why a module is in the plan.</summary>
public enum LoadRole
{
    Target,
    Dependency,
    SoftdepPre,
    SoftdepPost,
}

/// <summary>
/// One step of a load plan, in execution order.
/// </summary>
/// <param name="Module">The module's name.</param>
/// <param name="Path">The module file; null for built-ins and names only an install command knows.</param>
/// <param name="Action">What to do.</param>
/// <param name="Parameters">The parameter string for the kernel (config, then command line, then user); null when none.</param>
/// <param name="Optional">A soft dependency (or something only it needs): failure is a warning, not an error, as in kmod.</param>
/// <param name="Role">Target, dependency or soft dependency.</param>
/// <param name="Of">The module this one is a dependency or soft dependency of; null for the target.</param>
/// <param name="InstallCommand">The install command as configured, when it is what runs (even for an already-loaded step, to render the plan).</param>
/// <param name="CommandLine">The install command with $CMDLINE_OPTS replaced by the parameters: what /bin/sh runs.</param>
/// <param name="ConfigParameters">The options from modprobe.d and the kernel command line.</param>
/// <param name="UserParameters">The caller's parameters (the target only).</param>
/// <param name="Alias">The alias the module was reached through, when any.</param>
/// <param name="IsRepeat">kmod lists this module a second time (a soft dependency that is also a dependency); it is loaded by then.</param>
public sealed record LoadStep(
    string Module,
    string? Path,
    LoadAction Action,
    string? Parameters,
    bool Optional,
    LoadRole Role,
    string? Of,
    string? InstallCommand,
    string? CommandLine,
    string? ConfigParameters,
    string? UserParameters,
    string? Alias,
    bool IsRepeat)
{
    /// <summary>"target", "dependency of ext4", "softdep pre of ext4".</summary>
    public string Reason => Role switch
    {
        LoadRole.Target => "target",
        LoadRole.Dependency => $"dependency of {Of}",
        LoadRole.SoftdepPre => $"softdep pre of {Of}",
        _ => $"softdep post of {Of}",
    };

    /// <summary>
    /// The modules this one cannot load without (its modules.dep line): when one of them is
    /// declined, this step is not reached.
    /// </summary>
    public IReadOnlyList<string> Needs { get; init; } = [];

    /// <summary>Whether executing the plan does anything for this step.</summary>
    public bool ChangesKernel => Action is LoadAction.Insert or LoadAction.RunInstallCommand;

    public override string ToString() =>
        $"{Action} {Module}{(Parameters is null ? "" : " " + Parameters)} ({Reason}{(Optional ? ", optional" : "")})";
}
