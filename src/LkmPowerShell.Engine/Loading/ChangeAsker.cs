using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// How a load or unload call asks its decider: each change asked once; the one check of whether
/// the kernel can be changed at all (<see cref="KernelAccess"/>) made at the first change approved,
/// so a dry run needs neither module support nor the privilege; after a refusal, every later
/// change declined without asking, and <see cref="Stopped"/> says why.
/// </summary>
internal sealed class ChangeAsker(IKernel kernel, IChangeDecider decider)
{
    private bool _accessChecked;

    /// <summary>Why the call stopped: the decider refused every change, or the kernel cannot be changed; null while it goes on.</summary>
    public Exception? Stopped { get; private set; }

    public IChangeDecider Decider => decider;

    /// <summary>A change of the kernel: the decider's answer, then the access check.</summary>
    public ChangeDecision KernelChange(Func<IChangeDecider, ChangeDecision> ask)
    {
        if (Stopped is not null)
            return ChangeDecision.No;
        var decision = ask(decider);
        if (decider.Stopped)
        {
            Stopped = new ChangeRefusedException();
            return ChangeDecision.No;
        }
        if (decision == ChangeDecision.Yes && !_accessChecked)
        {
            _accessChecked = true;
            if (KernelAccess.ChangeProblem(kernel) is { } problem)
            {
                Stopped = problem;
                return ChangeDecision.No;
            }
        }
        return decision;
    }

    /// <summary>
    /// Boot-time files: the ones that would change are shown to the decider by exact path (none
    /// asked when they already say so), then written. Files need write access, not the privilege.
    /// </summary>
    public PersistOutcome Files(string module, bool loadAtBoot, Func<IReadOnlyList<PersistedFile>> preview, Func<IReadOnlyList<PersistedFile>> write)
    {
        if (Stopped is not null)
            return new PersistOutcome { Declined = true };
        try
        {
            var changes = preview().Where(f => f.Changed).ToList();
            if (changes.Count == 0)
                return new PersistOutcome { NothingToDo = true };
            var decision = decider.DecideFiles(module, changes, loadAtBoot);
            if (decider.Stopped)
                Stopped = new ChangeRefusedException();
            return decision != ChangeDecision.Yes || Stopped is not null
                ? new PersistOutcome { Declined = true }
                : new PersistOutcome { Files = write() };
        }
        catch (Exception e) when (e is PersistenceConflictException or IOException or UnauthorizedAccessException)
        {
            return new PersistOutcome { Failure = e };
        }
    }
}
