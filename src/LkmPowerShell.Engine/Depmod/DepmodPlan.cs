namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// A computed run, not yet written: every output file in memory. What a dry run can show, and what
/// <see cref="DepmodRunner.Publish"/> writes.
/// </summary>
/// <remarks>
/// The plan holds the output folder open from the start of the computation (see
/// <see cref="DepmodRunner.Compute"/>): dispose of it when it is not published.
/// </remarks>
public sealed class DepmodPlan : IDisposable
{
    public required string KernelVersion { get; init; }

    /// <summary>The folder the files would be written to.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The files in kmod's order of writing; empty when <see cref="Skipped"/>.</summary>
    public required IReadOnlyList<DepmodFile> Files { get; init; }

    public required int ModuleCount { get; init; }
    public required int SymbolCount { get; init; }
    public required int AliasCount { get; init; }
    public required IReadOnlyList<DepmodWarning> Warnings { get; init; }
    public required bool Skipped { get; init; }
    public int ModulesFromCache { get; init; }

    /// <summary>Time spent computing.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Where <see cref="Duration"/> went, step by step.</summary>
    public IReadOnlyList<DepmodStep> Steps { get; init; } = [];

    /// <summary>
    /// The output folder, resolved inside the root and held open since the computation began (null
    /// when it did not exist yet): the files go there even if its path is swapped for a link meanwhile.
    /// </summary>
    internal Files.ContainedFolder? OutputFolder { get; init; }

    /// <summary>Opens (creating it) the output folder inside its root, when <see cref="OutputFolder"/> is null.</summary>
    internal Func<Files.ContainedFolder>? OpenOutputFolder { get; init; }

    /// <summary>Opens (creating it) the cache folder inside its root; null without a cache.</summary>
    internal Func<Files.ContainedFolder>? OpenCacheFolder { get; init; }

    /// <summary>Saves the cache of module facts into the cache folder (best effort, after publishing); null when there is nothing to save.</summary>
    internal Action<Files.ContainedFolder>? SaveCache { get; init; }

    /// <summary>Set when <see cref="Files"/> are the files on disk, unchanged since that record was taken.</summary>
    internal DepmodOutputRecord? Reuse { get; init; }

    /// <summary>Where the record of the published files goes (a file of the cache folder), and what goes into it; null without a cache.</summary>
    internal string? RecordPath { get; init; }
    internal byte[]? InputDigest { get; init; }
    internal IReadOnlyList<DepmodWarning> RecordWarnings { get; init; } = [];
    internal TimeSpan LockTimeout { get; init; }
    internal Action<string>? StepHook { get; init; }

    public void Dispose() => OutputFolder?.Dispose();
}
