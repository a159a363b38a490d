namespace LkmPowerShell.Engine.Depmod;

public enum DepmodWarningKind
{
    /// <summary>A module needs a symbol nothing exports (only with a System.map or Module.symvers, like depmod -e).</summary>
    UnknownSymbol,

    /// <summary>A module was built against another CRC of a symbol than its exporter has (only with Module.symvers).</summary>
    VersionMismatch,

    /// <summary>A module file could not be read or is not a valid module; it is still listed, with no dependencies, as kmod does.</summary>
    UnreadableModule,

    /// <summary>A depmod.d line that kmod would also reject, or a configuration file that cannot be read.</summary>
    Configuration,

    /// <summary>An input file of the kernel build (modules.order, modules.builtin, modules.builtin.modinfo) is missing or damaged.</summary>
    InputFile,

    /// <summary>An alias with an unmatched bracket, or a devname alias without a device number: left out, as kmod does.</summary>
    BadAlias,

    /// <summary>The cache of module facts could not be read or written (it is then ignored or not saved).</summary>
    Cache,
}

/// <summary>One warning of a run. <see cref="Module"/> is the file path (or the input file for InputFile/Configuration).</summary>
public sealed record DepmodWarning(DepmodWarningKind Kind, string? Module, string? Symbol, string Message)
{
    public override string ToString() => Message;
}

/// <summary>What a run did.</summary>
public sealed record DepmodResult
{
    public required string KernelVersion { get; init; }

    /// <summary>The folder the files were written to.</summary>
    public required string OutputDirectory { get; init; }

    public required int ModuleCount { get; init; }

    /// <summary>Lines of modules.symbols: symbols exported by modules.</summary>
    public required int SymbolCount { get; init; }

    /// <summary>Lines of modules.alias.</summary>
    public required int AliasCount { get; init; }

    /// <summary>Full paths of the files written, in the order they were published.</summary>
    public required IReadOnlyList<string> FilesWritten { get; init; }

    public required IReadOnlyList<DepmodWarning> Warnings { get; init; }

    public required TimeSpan Duration { get; init; }

    /// <summary>Where <see cref="Duration"/> went, step by step (computing, then writing).</summary>
    public IReadOnlyList<DepmodStep> Steps { get; init; } = [];

    /// <summary>True when <see cref="DepmodOptions.Quick"/> found nothing newer than modules.dep and wrote nothing.</summary>
    public required bool Skipped { get; init; }

    /// <summary>Modules whose facts came from the cache instead of reading the file.</summary>
    public int ModulesFromCache { get; init; }

    /// <summary>
    /// True when the files on disk already held exactly what this run computed (nothing they are
    /// made from had changed since the last run wrote them): their time stamps were renewed, as a
    /// rewrite would have, and their content left as it was.
    /// </summary>
    public bool OutputsUnchanged { get; init; }
}
