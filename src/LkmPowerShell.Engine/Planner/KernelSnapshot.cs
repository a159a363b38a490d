using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Engine.Planner;

/// <summary>
/// The loaded modules at one moment, as the planners see them. Planning is pure: it asks this
/// snapshot instead of the kernel, so a plan can be made for an offline image (empty snapshot),
/// from a fake /proc and /sys (tests), or from the host (<see cref="Read"/>).
/// </summary>
public sealed class KernelSnapshot
{
    private readonly Dictionary<string, LoadedModule> _byName;

    public KernelSnapshot(IEnumerable<LoadedModule> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        _byName = new(StringComparer.Ordinal);
        foreach (var m in modules) _byName.TryAdd(ModuleName.Normalize(m.Name), m);
    }

    /// <summary>Nothing loaded: an offline image, or <c>modprobe --show-depends</c>.</summary>
    public static KernelSnapshot Empty { get; } = new([]);

    /// <summary>The kernel's loaded modules now; empty when it has no loadable-module support.</summary>
    public static KernelSnapshot Read(IKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return kernel.SupportsModules ? new KernelSnapshot(kernel.GetLoadedModules()) : Empty;
    }

    public IReadOnlyCollection<LoadedModule> Modules => _byName.Values;

    /// <summary>The loaded module of that name ("-" and "_" alike), or null.</summary>
    public LoadedModule? Find(string name) => _byName.GetValueOrDefault(ModuleName.Normalize(name));
}
