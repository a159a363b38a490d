using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;

namespace LkmPowerShell;

/// <summary>
/// The one door of Import- and Remove-KernelModule to a change: ShouldProcess, which honours
/// -WhatIf, -Confirm, $WhatIfPreference and $ConfirmPreference alike (never read from the bound
/// parameters), then PowerShell's <c>Force || ShouldContinue</c> for a risky kind of change, then
/// whether the change can be made at all: only in the running kernel (an offline -Root only
/// plans) and only with the privilege. A change that cannot be made is refused once, before
/// anything ran, and every later one is declined, so the caller throws the refusal afterwards.
/// </summary>
internal sealed class KernelChangeGate(PSCmdlet cmdlet, SystemRoot root, IKernel kernel, bool force)
{
    private bool _yesToAll;
    private bool _noToAll;

    /// <summary>Why nothing may change in this call (set at the first change approved); null while changes may go on.</summary>
    public ErrorRecord? Refusal { get; private set; }

    /// <summary>
    /// Whether to make this change. <paramref name="risk"/> is the ShouldContinue question for a
    /// risky change (null for an ordinary one): asked after ShouldProcess, skipped by -Force.
    /// </summary>
    /// <remarks><paramref name="changesKernel"/>: false for boot-time files, which need write access, not CAP_SYS_MODULE.</remarks>
    public bool Approve(string target, string action, string? risk = null, string? riskCaption = null, bool changesKernel = true)
    {
        if (Refusal is not null)
            return false;
        if (!cmdlet.ShouldProcess(target, action))
            return false;
        if (risk is not null && !force && !cmdlet.ShouldContinue(risk, riskCaption ?? action, ref _yesToAll, ref _noToAll))
            return false;
        if (!root.IsHost)
            Refusal = RootRefusal(root, "modules are loaded into and removed from the running kernel only");
        else if (changesKernel && !kernel.CallerMayManageModules)
            Refusal = ModuleErrors.For(new ModulePrivilegeException(), null);
        return Refusal is null;
    }

    /// <summary>
    /// Why a change of the running kernel cannot be made under an offline -Root (which only
    /// plans): <paramref name="why"/> says what is changed where ("modules are loaded ... only").
    /// </summary>
    public static ErrorRecord RootRefusal(SystemRoot root, string why)
    {
        var e = new ArgumentException($"-Root {root} only plans: {why}, so nothing is changed under {root}.");
        var remedy = ModuleErrors.Remedy("RootNeedsWhatIf");
        return new ErrorRecord(e, "RootNeedsWhatIf", ErrorCategory.InvalidArgument, root.Path)
        {
            ErrorDetails = new ErrorDetails($"{e.Message} {remedy}") { RecommendedAction = remedy },
        };
    }

    /// <summary>Ends the call with the refusal, when there was one.</summary>
    public void ThrowIfRefused()
    {
        if (Refusal is not null)
            cmdlet.ThrowTerminatingError(Refusal);
    }
}
