using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// The answers -WhatIf gives: every kernel change shown and none made (<see cref="ChangeDecision.DryRun"/>,
/// so the rest of the plan is still shown), no boot-time file written, a modprobe.d alias to a missing
/// module planned as nothing. A plan as data is <see cref="ModprobeSession.Load"/> or
/// <see cref="ModprobeSession.Unload"/> with this decider: the very call Import-KernelModule and
/// Remove-KernelModule make, so a plan shown as objects and a plan carried out cannot disagree.
/// </summary>
public sealed class DryRunDecider : IChangeDecider
{
    public static DryRunDecider Instance { get; } = new();

    public ChangeDecision DecideLoad(LoadStep step, LoadStepRisk risk) => ChangeDecision.DryRun;
    public ChangeDecision DecideUnload(UnloadStep step, bool forced) => ChangeDecision.DryRun;
    public ChangeDecision DecideFiles(string module, IReadOnlyList<PersistedFile> changes, bool loadAtBoot) => ChangeDecision.No;
    public ChangeDecision DecideNothingToLoad(ModuleNotFoundException aliasToNothing) => ChangeDecision.No;
    public bool Stopped => false;
}
