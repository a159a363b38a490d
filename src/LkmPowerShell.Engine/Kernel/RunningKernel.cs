using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// The running kernel as seen under a <see cref="SystemRoot"/>: its release, taint, loaded and
/// built-in modules, and symbols. On the host every figure is read fresh on each call; under a
/// fixture root the same files are read from the fixture. The production side of the kernel seam
/// (<see cref="IKernel"/>): the syscalls act on the host's kernel only.
/// </summary>
public sealed class RunningKernel : IKernel
{
    public const string OsReleasePath = "/proc/sys/kernel/osrelease";

    public RunningKernel(SystemRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        Root = root;
        ProcModules = new ProcModulesReader(root);
        SysModules = new SysModuleReader(root);
        Kallsyms = new KallsymsReader(root);
    }

    /// <summary>The kernel this process runs on.</summary>
    public static RunningKernel Host { get; } = new(SystemRoot.Host);

    public SystemRoot Root { get; }

    /// <summary>Under a root other than "/", this is an image's files: the syscalls act on the host's kernel only.</summary>
    public bool IsOffline => !Root.IsHost;

    public ProcModulesReader ProcModules { get; }
    public SysModuleReader SysModules { get; }
    public KallsymsReader Kallsyms { get; }

    /// <summary>
    /// What <c>uname -r</c> prints: on the host the uname syscall, under another root its
    /// /proc/sys/kernel/osrelease. Null when neither is available.
    /// </summary>
    public string? Release
    {
        get
        {
            if (Root.IsHost && Uname.Release() is { Length: > 0 } host) return host;
            return SysfsAttribute.Read(Root.Resolve(OsReleasePath), Root.Within(Root.Resolve(OsReleasePath))).Value?.Trim() is { Length: > 0 } r ? r : null;
        }
    }

    /// <summary>/proc/sys/kernel/tainted decoded; null when the file is missing or unreadable.</summary>
    public KernelTaint? Tainted =>
        SysfsAttribute.Read(Root.Resolve(KernelTaint.SystemPath)).Value is { } text
        && ulong.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? KernelTaint.FromValue(v)
            : null;

    /// <summary>
    /// Whether this kernel can have loadable modules: /proc/modules exists exactly when it was
    /// built with CONFIG_MODULES.
    /// </summary>
    public bool SupportsModules => ProcModules.Exists;

    /// <summary>
    /// Why there can be no loaded modules, in words for the user; null when <see cref="SupportsModules"/>.
    /// Tells a kernel without module support from a root whose /proc is not mounted.
    /// </summary>
    public string? ModulesUnsupportedReason
    {
        get
        {
            if (SupportsModules) return null;
            if (!Directory.Exists(Root.Resolve("/proc/sys/kernel")))
                return $"Cannot read the running kernel's modules: {Root.Resolve("/proc")} is not a mounted procfs ({ProcModules.Path} does not exist).";
            return KernelModulesUnsupportedException.DefaultMessage(Release, ProcModules.Path);
        }
    }

    /// <summary>Throws <see cref="KernelModulesUnsupportedException"/> unless <see cref="SupportsModules"/>.</summary>
    public void EnsureModuleSupport()
    {
        if (ModulesUnsupportedReason is { } reason)
            throw new KernelModulesUnsupportedException(Release, ProcModules.Path, reason);
    }

    /// <summary>
    /// Loaded modules in /proc/modules order (lsmod's order), each joined with its /sys/module
    /// directory. A module that unloads while we read keeps its /proc/modules figures.
    /// </summary>
    /// <exception cref="KernelModulesUnsupportedException">The kernel has no loadable-module support.</exception>
    public IReadOnlyList<LoadedModule> GetLoadedModules()
    {
        var entries = ReadProcModules();
        var result = new List<LoadedModule>(entries.Count);
        foreach (var entry in entries)
            result.Add(LoadedModule.FromKernel(entry, SysModules.Read(entry.Name)));
        return result;
    }

    /// <summary>One loaded module by name ("-" and "_" alike), or null when it is not loaded.</summary>
    /// <exception cref="KernelModulesUnsupportedException">The kernel has no loadable-module support.</exception>
    public LoadedModule? GetLoadedModule(string name)
    {
        var wanted = ModuleName.Normalize(name);
        foreach (var entry in ReadProcModules())
            if (entry.Name == wanted)
                return LoadedModule.FromKernel(entry, SysModules.Read(entry.Name));
        return null;
    }

    /// <summary>
    /// Built-in modules that have a /sys/module directory (those with parameters or a version),
    /// sorted by name. Works on kernels without loadable-module support too.
    /// </summary>
    public IReadOnlyList<LoadedModule> GetBuiltinModules()
    {
        var result = new List<LoadedModule>();
        foreach (var name in SysModules.EnumerateBuiltinNames())
            if (SysModules.Read(name) is { IsBuiltin: true } info)
                result.Add(LoadedModule.FromBuiltin(info));
        return result;
    }

    public bool CallerMayManageModules => Privileges.CanManageModules();

    public string[] ReadHolders(string name) => SysModules.ReadHolders(name);

    public IReadOnlyDictionary<string, string?>? ReadExports()
    {
        const string KsymtabPrefix = "__ksymtab_";
        if (!Kallsyms.Exists)
            return null;
        var exports = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var s in Kallsyms.Read(SymbolNameFilters.Prefix(KsymtabPrefix)))
            exports.TryAdd(s.Name[KsymtabPrefix.Length..], s.Module);
        return exports;
    }

    public string? Decompression => ReadSmallFile("/sys/module/compression")?.Trim() is { Length: > 0 } c ? c : null;

    public bool SignaturesEnforced => ReadSmallFile("/sys/module/module/parameters/sig_enforce")?.Trim() is "Y" or "1";

    public IKernelLog? OpenLog() => KernelMessageLog.OpenAtEnd(Root);

    public int FinitModule(SafeFileHandle file, string parameters, int flags)
    {
        EnsureHost();
        return ModuleSyscalls.FinitModule(file, parameters, flags);
    }

    public int InitModule(ReadOnlySpan<byte> image, string parameters)
    {
        EnsureHost();
        return ModuleSyscalls.InitModule(image, parameters);
    }

    public int DeleteModule(string name, int flags)
    {
        EnsureHost();
        return ModuleSyscalls.DeleteModule(name, flags);
    }

    /// <summary>A kernel read from another root is files on disk: there is nothing to load into.</summary>
    private void EnsureHost()
    {
        if (IsOffline)
            throw new InvalidOperationException($"Modules can only be loaded into or removed from the running kernel; {Root} is another system's files.");
    }

    private string? ReadSmallFile(string systemPath) => SysfsAttribute.Read(Root.Resolve(systemPath)).Value;

    private IReadOnlyList<ProcModuleEntry> ReadProcModules()
    {
        EnsureModuleSupport();
        try
        {
            return ProcModules.Read();
        }
        catch (FileNotFoundException)
        {
            // Checked a moment ago: only a fixture root being changed under us gets here.
            throw new KernelModulesUnsupportedException(Release, ProcModules.Path);
        }
    }
}
