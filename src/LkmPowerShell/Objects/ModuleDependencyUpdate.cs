using LkmPowerShell.Engine.Depmod;

namespace LkmPowerShell;

/// <summary>What Update-ModuleDependency did (or, with -WhatIf, would do).</summary>
public sealed class ModuleDependencyUpdate
{
    internal ModuleDependencyUpdate(string kernelVersion, string directory, int modules, int symbols, int aliases, string[] files,
        IEnumerable<DepmodWarning> warnings, TimeSpan duration, bool skipped, int fromCache, bool changed)
    {
        KernelVersion = kernelVersion;
        OutputDirectory = directory;
        Modules = modules;
        Symbols = symbols;
        Aliases = aliases;
        Files = files;
        Warnings = warnings.Select(w => new ModuleDependencyWarning(w.Kind.ToString(), w.Module, w.Symbol, w.Message)).ToArray();
        Duration = duration;
        Skipped = skipped;
        ModulesFromCache = fromCache;
        Changed = changed;
    }

    public string KernelVersion { get; }
    public string OutputDirectory { get; }
    public int Modules { get; }
    public int Symbols { get; }
    public int Aliases { get; }
    public string[] Files { get; }
    public ModuleDependencyWarning[] Warnings { get; }
    public TimeSpan Duration { get; }

    /// <summary>-Quick found nothing newer than modules.dep, so nothing was written (depmod -A).</summary>
    public bool Skipped { get; }

    /// <summary>Modules whose facts came from the cache of an earlier run instead of the file.</summary>
    public int ModulesFromCache { get; }

    /// <summary>
    /// Whether this call changed what the index files say (as Ansible's "changed"): false when -Quick
    /// skipped, or when nothing the files are made from changed and they were kept as they were
    /// (their time stamps renewed, as a rewrite would).
    /// </summary>
    public bool Changed { get; }

    public override string ToString() => $"{KernelVersion}: {Modules} modules, {Symbols} symbols, {Aliases} aliases";
}

/// <summary>One depmod warning: an unknown symbol, a version disagreement, an unreadable module, a configuration line.</summary>
public sealed class ModuleDependencyWarning(string kind, string? module, string? symbol, string message)
{
    public string Kind { get; } = kind;
    public string? Module { get; } = module;
    public string? Symbol { get; } = symbol;
    public string Message { get; } = message;
    public override string ToString() => Message;
}
