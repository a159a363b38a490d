namespace LkmPowerShell.Engine.Planner;

/// <summary>Where a configuration entry came from: a file and its 1-based line, or the kernel command line (line 0).</summary>
public sealed record ConfigLocation(string File, int Line)
{
    public const string KernelCommandLine = "kernel command line";

    public override string ToString() => Line > 0 ? $"{File}:{Line}" : File;
}

/// <summary><c>alias PATTERN MODULE</c>: a name (fnmatch pattern) that stands for a module.</summary>
public sealed record ConfigAlias(string Pattern, string Module, ConfigLocation Source);

/// <summary><c>options MODULE PARAMS</c>, or <c>module.param=value</c> on the kernel command line. MODULE may be an alias.</summary>
public sealed record ConfigOptions(string Module, string Options, ConfigLocation Source);

/// <summary><c>install PATTERN COMMAND</c> or <c>remove PATTERN COMMAND</c>: a shell command run instead of the syscall.</summary>
public sealed record ConfigCommand(string ModulePattern, string Command, ConfigLocation Source);

/// <summary><c>blacklist MODULE</c>, or <c>modprobe.blacklist=a,b</c> on the kernel command line.</summary>
public sealed record ConfigBlacklist(string Module, ConfigLocation Source);

/// <summary>
/// <c>softdep PATTERN pre: a b post: c</c>: modules to load before and after the module (names may be
/// aliases). Also every line of the tree's modules.softdep, which kmod reads as one more config file.
/// </summary>
public sealed record ConfigSoftDependency(string ModulePattern, IReadOnlyList<string> Pre, IReadOnlyList<string> Post, ConfigLocation Source);

/// <summary><c>weakdep PATTERN a b</c> (kmod 33+): modules the module may use; never loaded by modprobe.</summary>
public sealed record ConfigWeakDependency(string ModulePattern, IReadOnlyList<string> Modules, ConfigLocation Source);

/// <summary>A line kmod would ignore with a message on stderr; kept as a warning, never an exception.</summary>
public sealed record ConfigWarning(ConfigLocation Source, string Message)
{
    public override string ToString() => $"{Source}: {Message}";
}
