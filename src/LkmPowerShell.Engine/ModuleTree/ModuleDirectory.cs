namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// The installed modules of one kernel: /lib/modules/&lt;version&gt; under a <see cref="SystemRoot"/>,
/// read through depmod's files. Each question prefers the .bin index when it exists (one lookup
/// reads one path through the trie, as modprobe does) and falls back to the text file, and, for
/// the list of modules only, to scanning the folder when depmod has not run at all.
/// </summary>
/// <remarks>
/// Files are read lazily, once, on first use; an instance is a snapshot and is safe to share
/// between threads. Names are normalised ("-" to "_"), as kmod does.
/// </remarks>
public sealed class ModuleDirectory
{
    private readonly Lazy<IndexFile?> _depIndex;
    private readonly Lazy<IReadOnlyList<ModuleDependencyLine>?> _depText;
    private readonly Lazy<Dictionary<string, ModuleDependencyLine>?> _depTextByName;
    private readonly Lazy<IReadOnlyList<InstalledModule>> _modules;
    private readonly Lazy<Dictionary<string, InstalledModule>> _modulesByName;
    private readonly Lazy<IndexFile?> _aliasIndex;
    private readonly Lazy<IReadOnlyList<ModuleAlias>?> _aliasText;
    private readonly Lazy<IndexFile?> _symbolIndex;
    private readonly Lazy<IReadOnlyList<SymbolsFileEntry>?> _symbolText;
    private readonly Lazy<ILookup<string, string>?> _symbolTextBySymbol;
    private readonly Lazy<IndexFile?> _builtinIndex;
    private readonly Lazy<IReadOnlyList<BuiltinModule>?> _builtinText;
    private readonly Lazy<IndexFile?> _builtinAliasIndex;
    private readonly Lazy<IReadOnlyList<BuiltinModinfoField>?> _builtinModinfo;

    private ModuleDirectory(SystemRoot root, string kernelVersion, string path, bool installed = true)
    {
        IsInstalled = installed;
        Root = root;
        KernelVersion = kernelVersion;
        Path = path;
        _depIndex = new(() => OpenIndex(ModulesDepFile.FileName + ".bin"));
        _depText = new(() => ReadIfPresent(ModulesDepFile.FileName, p => ModulesDepFile.Read(p, Path, Root)));
        _depTextByName = new(() => _depText.Value is { } lines ? ByFirstName(lines, l => l.Module.Name) : null);
        _modules = new(ListModules);
        _modulesByName = new(() => ByFirstName(_modules.Value, m => m.Name));
        _aliasIndex = new(() => OpenIndex(ModulesAliasFile.FileName + ".bin"));
        _aliasText = new(() => ReadIfPresent(ModulesAliasFile.FileName, p => ModulesAliasFile.Read(p, Root)));
        _symbolIndex = new(() => OpenIndex(ModulesSymbolsFile.FileName + ".bin"));
        _symbolText = new(() => ReadIfPresent(ModulesSymbolsFile.FileName, p => ModulesSymbolsFile.Read(p, Root)));
        _symbolTextBySymbol = new(() => _symbolText.Value?.ToLookup(s => s.Symbol, s => s.Module, StringComparer.Ordinal));
        _builtinIndex = new(() => OpenIndex(ModulesBuiltinFile.FileName + ".bin"));
        _builtinText = new(() => ReadIfPresent(ModulesBuiltinFile.FileName, p => ModulesBuiltinFile.Read(p, Root)));
        _builtinAliasIndex = new(() => OpenIndex("modules.builtin.alias.bin"));
        _builtinModinfo = new(() => ReadIfPresent(ModulesBuiltinModinfoFile.FileName, p => ModulesBuiltinModinfoFile.Read(p, Root)));
    }

    public SystemRoot Root { get; }
    public string KernelVersion { get; }

    /// <summary>
    /// False for <see cref="Absent"/>: the kernel's folder does not exist, so no module, alias,
    /// symbol or built-in is known (what only needs the kernel, as rmmod and insmod PATH, still works).
    /// </summary>
    public bool IsInstalled { get; }

    /// <summary>The folder, /lib/modules/&lt;version&gt; under the root.</summary>
    public string Path { get; }

    /// <summary>Whether depmod has indexed this tree (modules.dep or modules.dep.bin exists).</summary>
    public bool HasDependencyIndex => _depIndex.Value is not null || _depText.Value is not null;

    /// <summary>
    /// Why a string cannot be a kernel version, or null when it can: it becomes one folder name
    /// under /lib/modules, so it must not be able to name any other folder. The one check every
    /// caller (module tree, depmod, the cmdlets) uses.
    /// </summary>
    public static string? KernelVersionProblem(string? kernelVersion) => kernelVersion switch
    {
        null or "" => "it is empty",
        "." or ".." => $"'{kernelVersion}' names a folder, not a kernel version",
        _ when kernelVersion.Contains('/') => "it contains '/'; a kernel version is a single folder name under /lib/modules",
        _ when kernelVersion.Contains('\0') => "it contains a NUL character",
        _ => null,
    };

    /// <summary>Opens the modules of <paramref name="kernelVersion"/> under <paramref name="root"/>.</summary>
    /// <exception cref="KernelNotInstalledException">The folder does not exist; the message lists the versions that do.</exception>
    public static ModuleDirectory Open(SystemRoot root, string kernelVersion)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentException.ThrowIfNullOrEmpty(kernelVersion);
        if (KernelVersionProblem(kernelVersion) is { } problem)
            throw new ArgumentException($"'{kernelVersion}' is not a kernel version: {problem}.", nameof(kernelVersion));
        var path = root.ModulesDirectory(kernelVersion);
        if (!Directory.Exists(path))
            throw new KernelNotInstalledException(kernelVersion, root, InstalledKernelVersions(root));
        return new ModuleDirectory(root, kernelVersion, path);
    }

    /// <summary>
    /// The tree of a kernel whose modules are not installed (a custom kernel, a container): every
    /// question answers "none", and <see cref="IsInstalled"/> is false so a caller that needs the
    /// tree can say so instead of answering "not found".
    /// </summary>
    /// <exception cref="ArgumentException">The text cannot be a kernel version.</exception>
    public static ModuleDirectory Absent(SystemRoot root, string kernelVersion)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (KernelVersionProblem(kernelVersion) is { } problem)
            throw new ArgumentException($"'{kernelVersion}' is not a kernel version: {problem}.", nameof(kernelVersion));
        return new ModuleDirectory(root, kernelVersion, root.ModulesDirectory(kernelVersion), installed: false);
    }

    /// <summary>The kernel versions with a folder under /lib/modules (the root's module directory), in ordinal order; empty when there is none.</summary>
    public static IReadOnlyList<string> InstalledKernelVersions(SystemRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var modules = root.ModulesFolder;
        if (!Directory.Exists(modules)) return [];
        return [.. new DirectoryInfo(modules).EnumerateDirectories().Select(d => d.Name).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Every installed module: from modules.dep(.bin) in depmod's order when depmod has run,
    /// otherwise by scanning the folder for *.ko, *.ko.xz, *.ko.zst and *.ko.gz.
    /// </summary>
    public IReadOnlyList<InstalledModule> Modules() => _modules.Value;

    /// <summary>The installed module of that name ("-" and "_" alike), or null.</summary>
    public InstalledModule? FindModule(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (DependencyLine(ModuleName.Normalize(name)) is { } line) return line.Module;
        if (HasDependencyIndex) return null;
        return _modulesByName.Value.GetValueOrDefault(ModuleName.Normalize(name));
    }

    /// <summary>
    /// What the module needs loaded first, the whole closure in depmod's order (modprobe loads the
    /// last one first); null when no module of that name is installed.
    /// </summary>
    /// <exception cref="ModuleTreeNotIndexedException">depmod has not indexed this tree.</exception>
    public IReadOnlyList<InstalledModule>? Dependencies(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!HasDependencyIndex)
            throw new ModuleTreeNotIndexedException(this, ModulesDepFile.FileName, "what each installed module needs loaded first");
        return DependencyLine(ModuleName.Normalize(name))?.Dependencies;
    }

    /// <summary>
    /// The names in the module's modules.dep line, in depmod's order (modprobe loads the last one
    /// first), without making their paths; null when the tree is not indexed or does not list it.
    /// </summary>
    public IReadOnlyList<string>? DependencyNames(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalized = ModuleName.Normalize(name);
        if (_depIndex.Value is { } index)
            return index.Lookup(normalized) is { } value ? ModulesDepFile.DependencyNames(value, index.Path) : null;
        return _depTextByName.Value?.GetValueOrDefault(normalized)?.Dependencies.Select(d => d.Name).ToArray();
    }

    /// <summary>Whether depmod's symbol index (modules.symbols.bin or modules.symbols) is here: without it no module is known to export anything.</summary>
    public bool HasSymbolIndex => _symbolIndex.Value is not null || _symbolTextBySymbol.Value is not null;

    /// <summary>The installed modules that export <paramref name="symbol"/> (modules.symbols); normally one or none.</summary>
    public IReadOnlyList<string> FindSymbolProviders(string symbol)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        if (symbol.StartsWith(ModulesSymbolsFile.KeyPrefix, StringComparison.Ordinal)) symbol = symbol[ModulesSymbolsFile.KeyPrefix.Length..];
        if (_symbolIndex.Value is { } index)
            return [.. index.SearchWildcard(ModulesSymbolsFile.KeyPrefix + symbol).Select(v => v.Value)];
        return _symbolTextBySymbol.Value is { } bySymbol ? [.. bySymbol[symbol]] : [];
    }

    /// <summary>Every symbol exported by an installed module (modules.symbols, else modules.symbols.bin).</summary>
    public IReadOnlyList<SymbolsFileEntry> ExportedSymbols()
    {
        if (_symbolText.Value is { } symbols) return symbols;
        if (_symbolIndex.Value is { } index)
            return [.. index.Enumerate().Select(e => new SymbolsFileEntry(
                e.Key.StartsWith(ModulesSymbolsFile.KeyPrefix, StringComparison.Ordinal) ? e.Key[ModulesSymbolsFile.KeyPrefix.Length..] : e.Key, e.Value))];
        return [];
    }

    /// <summary>
    /// Every alias declared by installed modules. Read from modules.alias when it exists, because
    /// it keeps each pattern as the module wrote it; modules.alias.bin holds normalised keys.
    /// </summary>
    public IReadOnlyList<ModuleAlias> Aliases()
    {
        if (_aliasText.Value is { } aliases) return aliases;
        if (_aliasIndex.Value is { } index)
            return [.. index.Enumerate().OrderBy(e => e.Priority).Select(e => new ModuleAlias(e.Key, e.Value))];
        return [];
    }

    /// <summary>modules.alias as depmod wrote it (each pattern as the module declares it); null when the text file is missing.</summary>
    public IReadOnlyList<ModuleAlias>? AliasesAsWritten() => _aliasText.Value;

    /// <summary>
    /// The installed modules whose alias patterns match <paramref name="alias"/> (a concrete
    /// string such as a device's modalias), in kmod's order; duplicates are kept, as kmod keeps them.
    /// </summary>
    public IReadOnlyList<string> ResolveAlias(string alias)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var normalized = ModuleName.NormalizeAlias(alias);
        if (_aliasIndex.Value is { } index)
            return [.. index.SearchWildcard(normalized).Select(v => v.Value)];
        // modules.alias is written in module order, which is the .bin's priority order.
        return _aliasText.Value is { } aliases
            ? [.. aliases.Where(a => FnMatch.IsMatch(ModuleName.NormalizeAlias(a.Pattern), normalized)).Select(a => a.Module)]
            : [];
    }

    /// <summary>The modules built into this kernel (modules.builtin.bin, else modules.builtin).</summary>
    public IReadOnlyList<string> BuiltinModules()
    {
        if (_builtinIndex.Value is { } index) return [.. index.Enumerate().Select(e => e.Key).Distinct()];
        return _builtinText.Value is { } builtin ? [.. builtin.Select(b => b.Name).Distinct()] : [];
    }

    public bool IsBuiltin(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalized = ModuleName.Normalize(name);
        if (_builtinIndex.Value is { } index) return index.Lookup(normalized) is not null;
        return _builtinText.Value?.Any(b => b.Name == normalized) ?? false;
    }

    /// <summary>The modinfo fields of built-in modules (modules.builtin.modinfo); empty when the file is missing.</summary>
    public IReadOnlyList<BuiltinModinfoField> BuiltinModinfo() => _builtinModinfo.Value ?? [];

    /// <summary>
    /// What modinfo shows for a module built into this kernel: its modules.builtin.modinfo records
    /// (none when the kernel predates that file); null when no built-in module has that name.
    /// </summary>
    public ModuleFiles.BuiltinModuleInfo? FindBuiltinModule(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalized = ModuleName.Normalize(name);
        if (!IsBuiltin(normalized)) return null;
        return new ModuleFiles.BuiltinModuleInfo(normalized, KernelVersion, [.. BuiltinModinfo()
            .Where(f => ModuleName.Normalize(f.Module) == normalized)
            .Select(f => new ModuleFiles.ModInfoEntry(f.Key, f.Value))]);
    }

    /// <summary>Built-in modules with an alias matching <paramref name="alias"/> (modules.builtin.alias.bin, else modules.builtin.modinfo).</summary>
    public IReadOnlyList<string> ResolveBuiltinAlias(string alias)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var normalized = ModuleName.NormalizeAlias(alias);
        if (_builtinAliasIndex.Value is { } index)
            return [.. index.SearchWildcard(normalized).Select(v => v.Value)];
        return [.. BuiltinModinfo()
            .Where(f => f.Key == "alias" && FnMatch.IsMatch(ModuleName.NormalizeAlias(f.Value), normalized))
            .Select(f => f.Module)];
    }

    /// <summary>Soft dependencies declared by installed modules (modules.softdep); empty when missing.</summary>
    public IReadOnlyList<ModuleSoftDependency> SoftDependencies() =>
        ReadIfPresent(ModulesSoftdepFile.FileName, p => ModulesSoftdepFile.Read(p, Root)) ?? [];

    /// <summary>Device nodes that load a module on first open (modules.devname); empty when missing.</summary>
    public IReadOnlyList<ModuleDeviceNode> DeviceNodes() =>
        ReadIfPresent(ModulesDevnameFile.FileName, p => ModulesDevnameFile.Read(p, Root)) ?? [];

    /// <summary>modules.order's paths; empty when missing.</summary>
    public IReadOnlyList<string> Order() => ReadIfPresent(ModulesOrderFile.FileName, p => ModulesOrderFile.Read(p, Root)) ?? [];

    public override string ToString() => Path;

    private ModuleDependencyLine? DependencyLine(string normalizedName)
    {
        if (_depIndex.Value is { } index)
            return index.Lookup(normalizedName) is { } value
                ? ModulesDepFile.ParseLine(value, Path, index.Path, within: Root)
                : null;
        return _depTextByName.Value?.GetValueOrDefault(normalizedName);
    }

    private IReadOnlyList<InstalledModule> ListModules()
    {
        if (!IsInstalled) return [];
        if (ListFromDependencyIndex() is { } listed) return listed;
        if (_depText.Value is { } lines) return [.. lines.Select(l => l.Module)];
        return ModuleTreeScanner.Scan(Path);
    }

    /// <summary>
    /// The modules modules.dep.bin lists, in depmod's order; null when it is missing or empty (the
    /// text file is asked next, as in <see cref="OpenIndex"/>). The list is kept for the process
    /// while the file is the same one (<see cref="ModuleListCache"/>): a session lists a tree again and again.
    /// </summary>
    private IReadOnlyList<InstalledModule>? ListFromDependencyIndex()
    {
        if (!IsInstalled) return null;
        var file = System.IO.Path.Join(Path, ModulesDepFile.FileName + ".bin");
        if (new FileInfo(file) is { Exists: true, Length: 0 })
            return null; // as OpenIndex decides it: empty (or a FIFO, a device) is absent
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        long size;
        try
        {
            handle = Files.SafeFile.Open(file, Files.FileLimits.BinaryIndex, Root, out size);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        using (handle)
        {
            if (size == 0)
                return null;
            // The identity of the file open here, so the bytes read below are the ones it names.
            var identity = Depmod.NativeFile.Stat(handle);
            var key = Root.Path + "\n" + file;
            if (identity is { } id && ModuleListCache.Get(key, id) is { } cached)
                return cached;
            var index = IndexFile.Parse(file, Files.SafeFile.ReadAll(handle, size, file, Files.FileLimits.BinaryIndex));
            // Paths in depmod's form (relative, no "." or "..") under a folder already inside the
            // root need no containing: the same path comes out, 1 µs a module sooner.
            var contained = Root.IsHost || Root.Contain(Path) == Path;
            IReadOnlyList<InstalledModule> modules = [.. index.Enumerate()
                .OrderBy(e => e.Priority)
                .Select(e => ModulesDepFile.ParseModule(e.Value, Path, file, -1, Root, directoryContained: contained))];
            if (identity is { } known)
                ModuleListCache.Put(key, known, modules);
            return modules;
        }
    }

    /// <summary>
    /// A .bin index, or null when it is missing or empty: depmod publishes a 0-byte
    /// modules.builtin.bin when modules.builtin is missing, and kmod treats an index it cannot
    /// open as absent. Any other damage is reported.
    /// </summary>
    private IndexFile? OpenIndex(string fileName) =>
        ReadIfPresent(fileName, p => new FileInfo(p) is { Exists: true, Length: 0 } ? null : IndexFile.Open(p, Root));

    private T? ReadIfPresent<T>(string fileName, Func<string, T?> read) where T : class
    {
        if (!IsInstalled) return null;
        var file = System.IO.Path.Join(Path, fileName);
        try
        {
            return read(file);
        }
        catch (FileNotFoundException)
        {
            return null; // a missing index is normal: kmod then asks the next source
        }
    }

    private static Dictionary<string, T> ByFirstName<T>(IEnumerable<T> items, Func<T, string> name)
    {
        var result = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in items) result.TryAdd(name(item), item);
        return result;
    }
}
