using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Symbols;

/// <summary>Who can satisfy a symbol a module needs.</summary>
public enum SymbolProviderKind
{
    /// <summary>Nothing found: neither the running kernel nor any installed module exports it.</summary>
    None,

    /// <summary>The kernel image itself (vmlinux) exports it.</summary>
    Kernel,

    /// <summary>A module already loaded in the running kernel exports it.</summary>
    LoadedModule,

    /// <summary>An installed module file (not loaded) exports it.</summary>
    ModuleFile,

    /// <summary>
    /// Not found, but not everything could be checked: the running kernel is not the module's
    /// version and no Module.symvers of that version is installed (Debian's System.map is a stub),
    /// or that version's modules.symbols is missing. It may be the kernel's, a module's, or nobody's.
    /// </summary>
    Unverified,
}

public sealed record SymbolProvider(SymbolProviderKind Kind, string? Module, string? Path);

/// <summary>
/// Answers "who provides symbol S" for a module built for one kernel version: first the running
/// kernel, when it is that version (an exported symbol has a __ksymtab_S entry in kallsyms, owned
/// by a module or by the kernel itself); else that version's Module.symvers, when installed (what
/// the kernel image exports); then the modules installed for that version (modules.symbols).
/// Each source is read once, for all the names asked about. Without the first two, a symbol no
/// module exports is Unverified, never claimed for the kernel nor for nobody.
/// </summary>
public sealed class SymbolProviderResolver
{
    private readonly IReadOnlyDictionary<string, string?>? _runningExports; // symbol -> owner (null = vmlinux)
    private readonly KernelImageExports? _imageExports;
    private readonly ModuleDirectory? _tree;

    /// <summary>For a module file read under <paramref name="root"/>: the running kernel, Module.symvers and the tree, all under that root.</summary>
    public SymbolProviderResolver(SystemRoot root, string? kernelVersion)
        : this(new RunningKernel(root), kernelVersion is not null && Directory.Exists(root.ModulesDirectory(kernelVersion)) ? TryOpen(root, kernelVersion) : null, kernelVersion, root)
    {
    }

    /// <remarks><paramref name="kernel"/>: Consulted only when it runs <paramref name="kernelVersion"/>.</remarks>
    /// <remarks><paramref name="tree"/>: The modules installed for <paramref name="kernelVersion"/>; null when none.</remarks>
    /// <remarks><paramref name="symversRoot"/>: Where to look for the version's Module.symvers when the running kernel is another one; null: do not.</remarks>
    public SymbolProviderResolver(IKernel kernel, ModuleDirectory? tree, string? kernelVersion, SystemRoot? symversRoot = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernelVersion is not null && kernel.SupportsModules && kernel.Release == kernelVersion)
            _runningExports = kernel.ReadExports();
        else if (kernelVersion is not null && symversRoot is not null)
            _imageExports = KernelImageExports.Find(symversRoot, kernelVersion);
        _tree = tree;
    }

    private static ModuleDirectory? TryOpen(SystemRoot root, string kernelVersion)
    {
        try
        {
            return ModuleDirectory.Open(root, kernelVersion);
        }
        catch (KernelNotInstalledException)
        {
            return null;
        }
    }

    /// <summary>True when the running kernel was consulted (it is the module's kernel version).</summary>
    public bool UsesRunningKernel => _runningExports is not null;

    /// <summary>Where the kernel image's exports were checked: "kallsyms" of the running kernel, a Module.symvers path, or null (they could not be).</summary>
    public string? KernelCheckedIn => UsesRunningKernel ? "kallsyms" : _imageExports?.Source;

    /// <summary>Whether the installed modules' exports could be checked (the version's modules.symbols is there).</summary>
    public bool ModulesChecked => _tree is { HasSymbolIndex: true };

    /// <summary>
    /// What could not be checked, in words, or null when everything could: why a symbol no module
    /// exports is Unverified rather than None.
    /// </summary>
    public string? Unchecked(string? kernelVersion)
    {
        var missing = new List<string>();
        if (KernelCheckedIn is null)
            missing.Add(kernelVersion is null
                ? "the module names no kernel version, so the kernel image's exports are unknown"
                : $"{kernelVersion} is not the running kernel and no Module.symvers of it is installed, so the kernel image's exports are unknown");
        if (!ModulesChecked)
            missing.Add(kernelVersion is null
                ? "no installed modules were consulted"
                : $"no modules.symbols for {kernelVersion} (its modules are not installed, or not indexed by depmod)");
        return missing.Count == 0 ? null : string.Join("; ", missing);
    }

    /// <summary>How many exports the running kernel's kallsyms showed (0 when not consulted).</summary>
    public int RunningKernelExportCount => _runningExports?.Count ?? 0;

    public SymbolProvider Resolve(string symbol)
    {
        if (_runningExports is not null && _runningExports.TryGetValue(symbol, out var owner))
            return owner is null
                ? new SymbolProvider(SymbolProviderKind.Kernel, null, null)
                : new SymbolProvider(SymbolProviderKind.LoadedModule, owner, _tree?.FindModule(owner)?.Path);
        if (_imageExports is not null && _imageExports.Contains(symbol))
            return new SymbolProvider(SymbolProviderKind.Kernel, null, null);
        if (_tree is not null)
        {
            var providers = _tree.FindSymbolProviders(symbol);
            if (providers.Count > 0)
                return new SymbolProvider(SymbolProviderKind.ModuleFile, providers[0], _tree.FindModule(providers[0])?.Path);
        }
        return new SymbolProvider(KernelCheckedIn is not null && ModulesChecked ? SymbolProviderKind.None : SymbolProviderKind.Unverified, null, null);
    }
}
