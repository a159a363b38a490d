namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// Where a module is in its life, as the kernel reports it: /proc/modules says Live, Loading or
/// Unloading; /sys/module/X/initstate says live, coming or going. Built-in modules have no state
/// of their own (they are part of the kernel image), so they get <see cref="Builtin"/>.
/// </summary>
public enum ModuleState
{
    Live,
    Loading,
    Unloading,
    Builtin,
}

internal static class ModuleStates
{
    /// <summary>The /proc/modules spelling.</summary>
    public static ModuleState? FromProc(ReadOnlySpan<char> text) => text switch
    {
        "Live" => ModuleState.Live,
        "Loading" => ModuleState.Loading,
        "Unloading" => ModuleState.Unloading,
        _ => null,
    };

    /// <summary>The /sys/module/X/initstate spelling.</summary>
    public static ModuleState? FromInitState(ReadOnlySpan<char> text) => text switch
    {
        "live" => ModuleState.Live,
        "coming" => ModuleState.Loading,
        "going" => ModuleState.Unloading,
        _ => null,
    };
}
