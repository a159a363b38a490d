using System.Text;

namespace LkmPowerShell.Engine.Planner;

/// <summary>A module the plan leaves out on purpose (a blacklisted alias match), with the reason.</summary>
public sealed record SkippedModule(string Module, string Reason);

/// <summary>
/// What loading a name takes, in order. The plan is data: the loader executes it, a dry run prints
/// it, and <see cref="ToShowDependsText"/> renders it exactly as <c>modprobe --show-depends</c> does.
/// </summary>
public sealed class LoadPlan
{
    internal LoadPlan(string query, string kernelVersion, ModuleResolution resolution, IReadOnlyList<LoadStep> steps,
        IReadOnlyList<SkippedModule> skipped, IReadOnlyList<string> warnings)
    {
        Query = query;
        KernelVersion = kernelVersion;
        Resolution = resolution;
        Steps = steps;
        Skipped = skipped;
        Warnings = warnings;
    }

    /// <summary>The name, alias or path asked for.</summary>
    public string Query { get; }
    public string KernelVersion { get; }
    public ModuleResolution Resolution { get; }
    public IReadOnlyList<LoadStep> Steps { get; }
    public IReadOnlyList<SkippedModule> Skipped { get; }

    /// <summary>Things worth a Verbose or Warning line: unresolvable soft dependencies, blacklisted softdeps left out.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Nothing to do: every target is already loaded, built in, or skipped.</summary>
    public bool IsNoOp => !Steps.Any(s => s.ChangesKernel);

    /// <summary>
    /// The lines <c>modprobe --show-depends</c> prints for the same tree and configuration:
    /// <c>insmod PATH OPTIONS</c> (kmod keeps the space before empty options), <c>install COMMAND
    /// OPTIONS</c>, <c>builtin NAME</c>; a module that is neither installed nor built in prints nothing.
    /// </summary>
    public string ToShowDependsText()
    {
        var text = new StringBuilder();
        foreach (var step in Steps)
        {
            var options = KmodOptions(step);
            if (step.InstallCommand is not null) text.Append("install ").Append(step.InstallCommand).Append(' ').Append(options).Append('\n');
            else if (step.Path is not null) text.Append("insmod ").Append(step.Path).Append(' ').Append(options).Append('\n');
            else if (step.Action == LoadAction.Builtin) text.Append("builtin ").Append(step.Module).Append('\n');
        }
        return text.ToString();
    }

    public override string ToString() => ToShowDependsText();

    /// <summary>kmod's module_options_concat: "config user", and "config " with a trailing space when there are no user options.</summary>
    private static string KmodOptions(LoadStep step) => (step.ConfigParameters, step.UserParameters) switch
    {
        (null, null) => "",
        (null, { } user) => user,
        ({ } config, null) => config + " ",
        ({ } config, { } user) => config + " " + user,
    };
}
