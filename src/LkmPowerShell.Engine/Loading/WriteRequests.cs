using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>The switches of one load, as kmod's probe flags are: each one a choice the caller made knowingly.</summary>
[Flags]
public enum LoadOptions
{
    None = 0,
    /// <summary>Load a module that modprobe.d disables (install NAME /bin/false) anyway, ignoring install commands and softdeps (<c>modprobe -i</c>).</summary>
    IgnoreDisabled = 1,
    /// <summary>kmod's --force-vermagic and --force-modversion.</summary>
    SkipVersionCheck = 2,
    /// <summary>Also make the target load at boot (modules-load.d, and modprobe.d for its parameters).</summary>
    Persist = 4,
    /// <summary>A blacklist also stops loading by name and as a dependency (kmod issues 40, 439, 440).</summary>
    BlacklistEverywhere = 8,
    /// <summary>Decompress in user space and use init_module, even when the kernel could decompress.</summary>
    NoKernelDecompression = 16,
}

/// <summary>
/// What to load: names (modprobe NAME ...) or one file (insmod PATH), the caller's parameters for
/// the target(s), and the switches.
/// </summary>
public sealed record LoadRequest
{
    /// <summary>Module names, aliases or "symbol:NAME"; ignored when <see cref="Path"/> is set.</summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    /// <summary>A module file to insert by itself, with no dependency and no configuration (insmod).</summary>
    public string? Path { get; init; }

    public IReadOnlyList<ModuleParameter> Parameters { get; init; } = [];
    public LoadOptions Options { get; init; }

    public bool Has(LoadOptions option) => (Options & option) == option;

    public static LoadRequest ForNames(IEnumerable<string> names, IReadOnlyList<ModuleParameter>? parameters = null, LoadOptions options = LoadOptions.None) =>
        new() { Names = [.. names], Parameters = parameters ?? [], Options = options };

    public static LoadRequest ForPath(string path, IReadOnlyList<ModuleParameter>? parameters = null, LoadOptions options = LoadOptions.None) =>
        new() { Path = path, Parameters = parameters ?? [], Options = options };
}

/// <summary>The switches of one unload, as kmod's remove flags are.</summary>
[Flags]
public enum UnloadOptions
{
    None = 0,
    /// <summary>modprobe -r: also the dependencies nothing else uses, and the softdeps in reverse.</summary>
    RemoveUnusedDependencies = 1,
    /// <summary>rmmod --force: delete_module with O_TRUNC, even while in use (CONFIG_MODULE_FORCE_UNLOAD).</summary>
    SkipInUseCheck = 2,
    /// <summary>Also delete the boot-time files that made the module load at boot.</summary>
    Persist = 4,
}

/// <summary>What to unload: names, the switches, and how long to wait for a use count to drop (modprobe -r --wait).</summary>
public sealed record UnloadRequest
{
    public IReadOnlyList<string> Names { get; init; } = [];
    public UnloadOptions Options { get; init; }

    /// <summary>Zero: one attempt; a module in use only by processes is then refused.</summary>
    public TimeSpan Wait { get; init; }

    public bool Has(UnloadOptions option) => (Options & option) == option;

    public static UnloadRequest ForNames(IEnumerable<string> names, UnloadOptions options = UnloadOptions.None, TimeSpan wait = default) =>
        new() { Names = [.. names], Options = options, Wait = wait };
}
