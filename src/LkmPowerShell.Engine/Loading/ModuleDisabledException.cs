using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// The plan needs a module that modprobe.d disables the CIS way (an install command that loads
/// nothing): modprobe would only run that command and fail, so nothing is tried.
/// </summary>
public sealed class ModuleDisabledException(string query, IReadOnlyList<ModuleLoadBlock> blocks)
    : ModulePlanException(query, "ModuleDisabled",
        $"{query} is disabled in modprobe.d ({Describe(blocks)}): its install command loads nothing, so modprobe would only run it and fail.")
{
    /// <summary>Each disabled module of the plan with the line that disables it.</summary>
    public IReadOnlyList<ModuleLoadBlock> Blocks { get; } = blocks;

    /// <summary>"freevxfs by /etc/modprobe.d/cis.conf:1; ...": the first few, then how many more (a hostile modprobe.d can disable thousands in one plan).</summary>
    public static string Describe(IReadOnlyCollection<ModuleLoadBlock> blocks) =>
        string.Join("; ", blocks.Take(5).Select(b => $"{b.Module} by {b.DisabledBy}")) + (blocks.Count > 5 ? $"; and {blocks.Count - 5:N0} more" : "");
}

/// <summary>The caller's decider refused every change of the call (its own reason is the caller's to give); nothing after it was done.</summary>
internal sealed class ChangeRefusedException() : Exception("Every change of this call was refused by the caller; nothing after the refusal was done.");
