using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// Every view of the loaded modules the audit compares, read once: /proc/modules (twice, before
/// and after the others, so that a module loading or unloading meanwhile is not taken for a
/// hidden one), the loaded modules' /sys/module directories, the owners in /proc/kallsyms, the
/// kernel taint and the kernel log's taint lines. A view that cannot be read is null, with why.
/// </summary>
internal sealed class KernelModuleViews
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

    /// <summary>Module-area allocations from /proc/vmallocinfo; null when unreadable (root only).</summary>
    public IReadOnlyList<ModuleMemoryArea>? ModuleAreas { get; private init; }

    public string? ModuleAreasProblem { get; private init; }

    /// <summary>
    /// Addresses of symbols that /proc/kallsyms attributes to a module or pseudo-owner ([bpf],
    /// [__builtin__ftrace] ...), sorted; null when the kernel hides addresses from this reader.
    /// </summary>
    public ulong[]? OwnedSymbolAddresses { get; private init; }

    /// <summary>
    /// Section addresses from /sys/module/&lt;name&gt;/sections/ (root only; zeros are left out), by
    /// module: only the sections that still hold the module. Once a module is live the kernel has
    /// freed its .init* sections (and its full .symtab and .strtab), but sysfs keeps showing their old addresses, and that memory is
    /// reused for the next module loaded: counting them would let a stale address explain another
    /// module's memory (a hiding one's, loaded right after).
    /// </summary>
    public IReadOnlyDictionary<string, ulong[]> SectionAddresses { get; private init; } = new Dictionary<string, ulong[]>();

    /// <summary>/proc/kallsyms symbols named as a known rootkit's (<see cref="KnownRootkitNames.Symbols"/>); null when kallsyms cannot be read.</summary>
    public IReadOnlyList<KallsymsEntry>? KnownRootkitSymbols { get; private init; }

    public static KernelModuleViews Read(RunningKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var first = ReadProcModules(kernel);
        var sysfs = ReadSysfs(kernel.SysModules);
        var sections = sysfs.ToDictionary(p => p.Key, p => ReadSections(kernel.SysModules, p.Key, p.Value.State == ModuleState.Loading), StringComparer.Ordinal);
        var areas = ModuleMemoryReader.Read(kernel.Root, out var areasProblem);
        var (owners, addresses, kallsymsProblem) = ReadKallsymsOwners(kernel.Kallsyms);
        var rootkitSymbols = kallsymsProblem is null ? ReadKnownRootkitSymbols(kernel.Kallsyms) : null;
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
            OwnedSymbolAddresses = addresses,
            ModuleAreas = areas,
            ModuleAreasProblem = areasProblem,
            SectionAddresses = sections,
            KallsymsProblem = kallsymsProblem,
            KnownRootkitSymbols = rootkitSymbols,
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

    private static (IReadOnlySet<string>?, ulong[]?, string?) ReadKallsymsOwners(KallsymsReader reader)
    {
        if (!reader.Exists) return (null, null, $"{reader.Path} does not exist (a kernel without CONFIG_KALLSYMS, or /proc not mounted)");
        var owners = new HashSet<string>(StringComparer.Ordinal);
        var addresses = new List<ulong>();
        var hidden = false;
        try
        {
            // Only owned symbols become objects: the kernel image's 100,000-odd are filtered before allocation.
            foreach (var symbol in reader.Read(owner: o => o is not null))
            {
                owners.Add(symbol.Module!);
                if (symbol.Address is { } a) addresses.Add(a);
                else hidden = true;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModuleFormatException)
        {
            return (null, null, $"{reader.Path} cannot be read: {e.Message}");
        }
        addresses.Sort();
        return (owners, hidden ? null : [.. addresses], null);
    }

    private static IReadOnlyList<KallsymsEntry>? ReadKnownRootkitSymbols(KallsymsReader reader)
    {
        try
        {
            // A second pass, but the name filter allocates nothing for the 100,000-odd other lines.
            return [.. reader.Read(SymbolNameFilters.Exact(KnownRootkitNames.Symbols.Keys))];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModuleFormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Sections the module loader puts in the memory it frees once init returns: .init.* and the
    /// full .symtab and .strtab (the kernel keeps only a copy of the core symbols, which no section
    /// file shows). Seen in the 6.1 guest: lkmaudit_plain's .init.text, .init.data, .symtab and
    /// .strtab all lay in the area the next module loaded got.
    /// </summary>
    internal static bool IsInitSection(string name) =>
        name.StartsWith(".init", StringComparison.Ordinal) || name is ".symtab" or ".strtab";

    /// <param name="reader">/sys/module.</param>
    /// <param name="name">The module.</param>
    /// <param name="withInit">Also the init sections (<see cref="IsInitSection"/>): only while the module is still initialising (initstate coming), when they are still its memory.</param>
    private static ulong[] ReadSections(SysModuleReader reader, string name, bool withInit)
    {
        var dir = Path.Join(reader.ModuleDirectory(name), "sections");
        var result = new List<ulong>();
        try
        {
            foreach (var file in Directory.EnumerateFiles(dir))
                if ((withInit || !IsInitSection(Path.GetFileName(file)))
                    && SysfsAttribute.Read(file, reader.Root.IsHost ? null : reader.Root).Value?.Trim() is { } v
                    && ulong.TryParse(v.StartsWith("0x", StringComparison.Ordinal) ? v[2..] : v, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var a)
                    && a != 0)
                    result.Add(a);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException or IOException) { }
        return [.. result];
    }
}
