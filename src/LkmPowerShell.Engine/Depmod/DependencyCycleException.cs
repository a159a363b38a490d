namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// Modules depend on each other in a circle, so no load order exists; depmod then writes nothing.
/// The message has kmod's lines ("Cycle detected: a -> b -> a", "Found N modules in dependency
/// cycles!") followed by what to do about it.
/// </summary>
public sealed class DependencyCycleException : Exception
{
    public DependencyCycleException(IReadOnlyList<IReadOnlyList<string>> cycles, int moduleCount)
        : base(Format(cycles, moduleCount))
    {
        Cycles = cycles;
        ModuleCount = moduleCount;
    }

    /// <summary>Each cycle as kmod reports it: module names from the first back to the first.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles { get; }

    /// <summary>How many distinct modules are on the cycles.</summary>
    public int ModuleCount { get; }

    private static string Format(IReadOnlyList<IReadOnlyList<string>> cycles, int count) =>
        string.Join("\n", cycles.Select(c => "Cycle detected: " + string.Join(" -> ", c))) +
        $"\nFound {count} modules in dependency cycles!" +
        "\nNo index file was written. Each module on a cycle needs a symbol another one on it exports; rebuild or remove one of them.";
}
