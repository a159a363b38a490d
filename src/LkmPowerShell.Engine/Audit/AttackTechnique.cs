namespace LkmPowerShell.Engine.Audit;

/// <summary>MITRE ATT&amp;CK technique ids that findings refer to.</summary>
internal static class AttackTechnique
{
    /// <summary>Boot or Logon Autostart Execution: Kernel Modules and Extensions.</summary>
    public const string KernelModules = "T1547.006";

    /// <summary>Rootkit: code that hides itself (or other things) from the system's own views.</summary>
    public const string Rootkit = "T1014";
}
