namespace LkmPowerShell.Engine.Planner;

/// <summary>How far a blacklist reaches.</summary>
public enum BlacklistScope
{
    /// <summary>kmod's default: a blacklisted module is not loaded through an alias; by name and as a dependency it still loads.</summary>
    AliasesOnly,
    /// <summary>
    /// Also refuse it by name and as a dependency (kmod issues 40, 439, 440): a blacklisted target
    /// or required dependency is an error, a blacklisted soft dependency is left out.
    /// </summary>
    Everywhere,
}

/// <summary>Choices for <see cref="LoadPlanner"/>. The defaults fix kmod 30's known faults; <see cref="KmodCompatible"/> reproduces them.</summary>
public sealed record LoadPlanOptions
{
    /// <summary>Plan every step as if nothing were loaded (<c>modprobe --show-depends</c>).</summary>
    public bool IgnoreLoaded { get; init; }

    /// <summary>Ignore install commands and soft dependencies (<c>modprobe -i</c>).</summary>
    public bool IgnoreCommands { get; init; }

    public BlacklistScope Blacklist { get; init; } = BlacklistScope.AliasesOnly;

    /// <summary>Use every softdep line of a module (default). kmod 30 uses only the first (issue 33).</summary>
    public bool MergeAllSoftdepLines { get; init; } = true;

    /// <summary>Run a module's install command even when it has soft dependencies (default). kmod 30 inserts it instead (issue 446).</summary>
    public bool InstallCommandsWithSoftdeps { get; init; } = true;

    public static LoadPlanOptions Default { get; } = new();

    /// <summary>kmod 30's behaviour, faults included: for comparing with modprobe.</summary>
    public static LoadPlanOptions KmodCompatible { get; } = new() { MergeAllSoftdepLines = false, InstallCommandsWithSoftdeps = false };
}
