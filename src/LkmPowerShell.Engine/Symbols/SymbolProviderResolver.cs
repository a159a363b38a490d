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
    /// No installed module exports it, and the running kernel is not the module's version, so
    /// whether the kernel image exports it cannot be checked (Debian ships no vmlinux symbol list).
    /// </summary>
    KernelUnverified,
}

public sealed record SymbolProvider(SymbolProviderKind Kind, string? Module, string? Path);

/// <summary>
/// Answers "who provides symbol S" for a module built for one kernel version: first the running
/// kernel, when it is that version (an exported symbol has a __ksymtab_S entry in kallsyms, owned
/// by a module or by the kernel itself); then the modules installed for that version
/// (modules.symbols). kallsyms is read once, for all the names asked about.
/// </summary>
public sealed class SymbolProviderResolver
{
    private readonly IReadOnlyDictionary<string, string?>? _runningExports; // symbol -> owner (null = vmlinux)
    private readonly ModuleDirectory? _tree;

    public SymbolProviderResolver(SystemRoot root, string? kernelVersion)
        : this(new RunningKernel(root), kernelVersion is not null && Directory.Exists(root.ModulesDirectory(kernelVersion)) ? TryOpen(root, kernelVersion) : null, kernelVersion)
    {
    }

    /// <remarks><paramref name="kernel"/>: Consulted only when it runs <paramref name="kernelVersion"/>.</remarks>
    /// <remarks><paramref name="tree"/>: The modules installed for <paramref name="kernelVersion"/>; null when none.</remarks>
    public SymbolProviderResolver(IKernel kernel, ModuleDirectory? tree, string? kernelVersion)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernelVersion is not null && kernel.SupportsModules && kernel.Release == kernelVersion)
            _runningExports = kernel.ReadExports();
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

    /// <summary>How many exports the running kernel's kallsyms showed (0 when not consulted).</summary>
    public int RunningKernelExportCount => _runningExports?.Count ?? 0;

    public SymbolProvider Resolve(string symbol)
    {
        if (_runningExports is not null && _runningExports.TryGetValue(symbol, out var owner))
            return owner is null
                ? new SymbolProvider(SymbolProviderKind.Kernel, null, null)
                : new SymbolProvider(SymbolProviderKind.LoadedModule, owner, _tree?.FindModule(owner)?.Path);
        if (_tree is not null)
        {
            var providers = _tree.FindSymbolProviders(symbol);
            if (providers.Count > 0)
                return new SymbolProvider(SymbolProviderKind.ModuleFile, providers[0], _tree.FindModule(providers[0])?.Path);
        }
        return new SymbolProvider(UsesRunningKernel ? SymbolProviderKind.None : SymbolProviderKind.KernelUnverified, null, null);
    }
}
