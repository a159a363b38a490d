using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>An answer to "make this change?".</summary>
public enum ChangeDecision
{
    /// <summary>Make it.</summary>
    Yes,
    /// <summary>Do not make it: what needs it is not reached either (and is not asked about).</summary>
    No,
    /// <summary>A dry run (-WhatIf): shown, not made, and the rest of the plan is still shown.</summary>
    DryRun,
}

/// <summary>What a load step risks beyond an ordinary load: the safety checks the request switched off for it.</summary>
/// <param name="IgnoresDisabled">The module is disabled in modprobe.d and is loaded anyway (LoadOptions.IgnoreDisabled).</param>
/// <param name="Disabled">Every module of the plan that modprobe.d disables, with the line that does it.</param>
/// <param name="SkipsVersionCheck">An insert without the vermagic and modversion checks.</param>
public sealed record LoadStepRisk(bool IgnoresDisabled, IReadOnlyList<ModuleLoadBlock> Disabled, bool SkipsVersionCheck)
{
    public bool IsRisky => IgnoresDisabled || SkipsVersionCheck;
}

/// <summary>
/// Who answers the write side's questions: asked before each change (a step that changes the
/// kernel, a set of boot-time files), with the facts of the change; the words are the caller's.
/// A front end asks its user (PowerShell's ShouldProcess and ShouldContinue); a test answers from a list.
/// </summary>
public interface IChangeDecider
{
    /// <summary>Before a load step that changes the kernel (an insert or an install command).</summary>
    ChangeDecision DecideLoad(LoadStep step, LoadStepRisk risk);

    /// <summary>Before an unload step that changes the kernel (delete_module or a remove command); <paramref name="forced"/>: O_TRUNC.</summary>
    ChangeDecision DecideUnload(UnloadStep step, bool forced);

    /// <summary>Before writing or deleting boot-time files: <paramref name="changes"/> are the files that would change, by exact path.</summary>
    /// <remarks><paramref name="loadAtBoot"/>: True to make the module load at boot, false to stop it.</remarks>
    ChangeDecision DecideFiles(string module, IReadOnlyList<PersistedFile> changes, bool loadAtBoot);

    /// <summary>
    /// A modprobe.d alias names a module that is not installed, so there is nothing to load
    /// (kmod plans nothing and a dry run succeeds): Yes means a real load, which then fails.
    /// </summary>
    ChangeDecision DecideNothingToLoad(ModuleNotFoundException aliasToNothing);

    /// <summary>
    /// A step of the plan that changes nothing because its module is built into the kernel: shown
    /// in its place among the steps, as kmod's --show-depends prints "builtin NAME", never asked.
    /// Nothing by default.
    /// </summary>
    void ShowBuiltin(LoadStep step)
    {
    }

    /// <summary>True once the decider has refused the whole call (nothing may change at all): the engine stops there.</summary>
    bool Stopped { get; }
}

/// <summary>Says yes to everything: for callers that asked their questions already.</summary>
public sealed class ApproveAll : IChangeDecider
{
    public static ApproveAll Instance { get; } = new();

    public ChangeDecision DecideLoad(LoadStep step, LoadStepRisk risk) => ChangeDecision.Yes;
    public ChangeDecision DecideUnload(UnloadStep step, bool forced) => ChangeDecision.Yes;
    public ChangeDecision DecideFiles(string module, IReadOnlyList<PersistedFile> changes, bool loadAtBoot) => ChangeDecision.Yes;
    public ChangeDecision DecideNothingToLoad(ModuleNotFoundException aliasToNothing) => ChangeDecision.Yes;
    public bool Stopped => false;
}
