using System.Management.Automation;
using System.Reflection;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Loading;

namespace LkmPowerShell;

/// <summary>
/// The mechanics of the write cmdlets' answers to the engine's questions: ShouldProcess, which
/// honours -WhatIf, -Confirm, $WhatIfPreference and $ConfirmPreference alike (never read from the
/// bound parameters), then PowerShell's <c>Force || ShouldContinue</c> for a risky kind of change,
/// then whether the change can be made here at all: an offline -Root only plans. A change that
/// cannot be made is refused once, before anything ran, and every later one is declined, so the
/// cmdlet throws the refusal after the engine's call. Whether the process may change the kernel
/// (module support, the privilege) is the engine's one check, made at the first change approved.
/// </summary>
internal sealed class KernelChangeGate(PSCmdlet cmdlet, SystemRoot root, bool force)
{
    private bool _yesToAll;
    private bool _noToAll;

    /// <summary>PowerShell's own "Performing the operation ... on target ..." text, so a question reads as ShouldProcess(target, action) words it.</summary>
    private static readonly string ShouldProcessMessage =
        typeof(PSCmdlet).Assembly.GetType("System.Management.Automation.CommandBaseStrings")
            ?.GetProperty("ShouldProcessMessage", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(null) as string
        ?? "Performing the operation \"{0}\" on target \"{1}\".";

    /// <summary>Why nothing may change in this call (set at the first change approved); null while changes may go on.</summary>
    public ErrorRecord? Refusal { get; private set; }

    /// <summary>
    /// Whether to make this change. <paramref name="risk"/> is the ShouldContinue question for a
    /// risky change (null for an ordinary one): asked after ShouldProcess, skipped by -Force.
    /// </summary>
    public ChangeDecision Decide(string target, string action, string? risk = null, string? riskCaption = null)
    {
        if (Refusal is not null)
            return ChangeDecision.No;
        if (Ask(target, action) is var asked and not ChangeDecision.Yes)
            return asked;
        if (risk is not null && !force && !cmdlet.ShouldContinue(risk, riskCaption ?? action, ref _yesToAll, ref _noToAll))
            return ChangeDecision.No;
        if (!root.IsHost)
        {
            Refusal = RootRefusal(root, "modules are loaded into and removed from the running kernel only");
            return ChangeDecision.No;
        }
        return ChangeDecision.Yes;
    }

    /// <summary>ShouldProcess alone, telling a dry run (-WhatIf: shown, the rest still shown) from an answer of no.</summary>
    public ChangeDecision Ask(string target, string action)
    {
        var description = string.Format(System.Globalization.CultureInfo.CurrentCulture, ShouldProcessMessage, action, target);
        if (cmdlet.ShouldProcess(description, null, null, out var reason))
            return ChangeDecision.Yes;
        return reason == ShouldProcessReason.WhatIf ? ChangeDecision.DryRun : ChangeDecision.No;
    }

    /// <summary>
    /// Why a change of the running kernel cannot be made under an offline -Root (which only
    /// plans): <paramref name="why"/> says what is changed where ("modules are loaded ... only").
    /// </summary>
    public static ErrorRecord RootRefusal(SystemRoot root, string why) =>
        ModuleErrors.New(new ArgumentException($"-Root {root} only plans: {why}, so nothing is changed under {root}."),
            "RootNeedsWhatIf", ErrorCategory.InvalidArgument, root.Path, "RootNeedsWhatIf");

    /// <summary>Ends the call with the refusal, when there was one.</summary>
    public void ThrowIfRefused()
    {
        if (Refusal is not null)
            cmdlet.ThrowTerminatingError(Refusal);
    }
}
