namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// One file of /sys/module/X/parameters/: a parameter's current value, or why it cannot be read.
/// Write-only parameters (mode 0200) refuse reading even to root (EACCES), 0600 ones refuse
/// ordinary users, and some getters fail; those are reported, not thrown.
/// </summary>
/// <param name="Name">The parameter's name (the file name).</param>
/// <param name="Value">The value without the kernel's trailing newline; null when not readable.</param>
/// <param name="Problem">Why the value could not be read; null when it could.</param>
public sealed record ModuleParameterValue(string Name, string? Value, string? Problem)
{
    public bool IsReadable => Value is not null;

    public override string ToString() => IsReadable ? $"{Name}={Value}" : $"{Name} (not readable: {Problem})";
}
