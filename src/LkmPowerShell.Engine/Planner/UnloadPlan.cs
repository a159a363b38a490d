namespace LkmPowerShell.Engine.Planner;

/// <summary>What removing a name takes, in order.</summary>
public sealed class UnloadPlan(string query, string kernelVersion, IReadOnlyList<UnloadStep> steps, IReadOnlyList<string> warnings)
{
    public string Query { get; } = query;
    public string KernelVersion { get; } = kernelVersion;
    public IReadOnlyList<UnloadStep> Steps { get; } = steps;

    /// <summary>Soft dependencies or dependencies that will stay loaded, and why.</summary>
    public IReadOnlyList<string> Warnings { get; } = warnings;

    public bool IsNoOp => !Steps.Any(s => s.ChangesKernel);

    /// <summary>The lines <c>modprobe -r -n -v</c> would print.</summary>
    public string ToModprobeText() => string.Concat(Steps.Select(s => s.ToModprobeLine()).Where(l => l is not null).Select(l => l + "\n"));
}
