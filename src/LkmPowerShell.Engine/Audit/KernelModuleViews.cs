using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// Every view of the loaded modules the audit compares, read once: /proc/modules (twice, before
/// and after the others, so that a module loading or unloading meanwhile is not taken for a
/// hidden one), the loaded modules' /sys/module directories, the owners in /proc/kallsyms, the
/// kernel taint and the kernel log's taint lines. A view that cannot be read is null, with why.
/// </summary>
public sealed class KernelModuleViews
{
    private KernelModuleViews() { }

    public string? Release { get; private init; }
    public KernelTaint? Taint { get; private init; }

    /// <summary>/proc/modules as first read; null when the kernel has no loadable-module support.</summary>
    public IReadOnlyList<ProcModuleEntry>? ProcModules { get; private init; }

    /// <summary>Names in either read of /proc/modules.</summary>
    public IReadOnlySet<string> ListedNames { get; private init; } = new HashSet<string>();

    /// <summary>/sys/module directories that have an initstate (loadable modules, not built-ins), by name.</summary>
    public IReadOnlyDictionary<string, SysModuleInfo> SysfsModules { get; private init; } = new Dictionary<string, SysModuleInfo>();

    /// <summary>The module names that own symbols in /proc/kallsyms; null when it cannot be read.</summary>
    public IReadOnlySet<string>? KallsymsOwners { get; private init; }

    public string? KallsymsProblem { get; private init; }

    /// <summary>The module loader's taint lines from the kernel log; null when the log cannot be read.</summary>
    public IReadOnlyList<KernelLogTaintEvent>? LogEvents { get; private init; }

    public string? LogProblem { get; private init; }

    public static KernelModuleViews Read(RunningKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var first = ReadProcModules(kernel);
        var sysfs = ReadSysfs(kernel.SysModules);
        var (owners, kallsymsProblem) = ReadKallsymsOwners(kernel.Kallsyms);
        var lines = KernelLogSource.Read(kernel.Root, out var logProblem);
        var second = ReadProcModules(kernel);

        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in first ?? []) listed.Add(e.Name);
        foreach (var e in second ?? []) listed.Add(e.Name);

        return new KernelModuleViews
        {
            Release = kernel.Release,
            Taint = kernel.Tainted,
            ProcModules = first,
            ListedNames = listed,
            // A directory that is gone by now belonged to a module that unloaded while we read.
            SysfsModules = sysfs.Where(p => Directory.Exists(kernel.SysModules.ModuleDirectory(p.Key)))
                .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
            KallsymsOwners = owners,
            KallsymsProblem = kallsymsProblem,
            LogEvents = lines is null ? null : KernelLogTaintParser.Parse(lines),
            LogProblem = logProblem,
        };
    }

    private static IReadOnlyList<ProcModuleEntry>? ReadProcModules(RunningKernel kernel)
    {
        if (!kernel.ProcModules.Exists) return null;
        try
        {
            return kernel.ProcModules.Read();
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static Dictionary<string, SysModuleInfo> ReadSysfs(SysModuleReader reader)
    {
        var result = new Dictionary<string, SysModuleInfo>(StringComparer.Ordinal);
        foreach (var name in reader.EnumerateNames())
        {
            // Built-ins have no initstate and are not what the cross-views compare.
            if (!File.Exists(Path.Join(reader.ModuleDirectory(name), "initstate"))) continue;
            if (reader.Read(name) is { IsBuiltin: false } info) result[name] = info;
        }
        return result;
    }

    private static (IReadOnlySet<string>?, string?) ReadKallsymsOwners(KallsymsReader reader)
    {
        if (!reader.Exists) return (null, $"{reader.Path} does not exist (a kernel without CONFIG_KALLSYMS, or /proc not mounted)");
        var owners = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            // The owner filter sees every line and keeps nothing: no symbol object is allocated.
            foreach (var _ in reader.Read(owner: o => { if (o is not null) owners.Add(o); return false; })) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModuleFormatException)
        {
            return (null, $"{reader.Path} cannot be read: {e.Message}");
        }
        return (owners, null);
    }
}
