namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// How much a finding matters, lowest first, so that "above Informational" is a plain comparison.
/// Informational is a fact worth recording (a signer, a setting); everything above it asks for a look.
/// </summary>
public enum AuditSeverity
{
    /// <summary>A fact: nothing is wrong.</summary>
    Informational = 0,

    /// <summary>Legitimate on many systems (a vendor or DKMS module), but worth knowing.</summary>
    Low = 1,

    /// <summary>Weakens the system's guarantees (an unsigned module is loaded).</summary>
    Medium = 2,

    /// <summary>Does not add up: the loaded code is not what is installed, or a taint has no owner.</summary>
    High = 3,

    /// <summary>Something in the kernel hides itself from the module list.</summary>
    Critical = 4,
}
