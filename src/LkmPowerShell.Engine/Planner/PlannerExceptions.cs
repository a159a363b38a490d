namespace LkmPowerShell.Engine.Planner;

/// <summary>
/// Why a load or unload cannot be planned. <see cref="ErrorId"/> is stable (a front end can use it
/// as its error's id); the message states the facts, and the remedy is the front end's to word.
/// </summary>
public abstract class ModulePlanException : Exception
{
    protected ModulePlanException(string module, string errorId, string message) : base(message)
    {
        Module = module;
        ErrorId = errorId;
    }

    /// <summary>The module (or name) the error is about.</summary>
    public string Module { get; }
    public string ErrorId { get; }
}

/// <summary>Not a name: a path, "..", an empty or overlong string.</summary>
public sealed class InvalidModuleNameException(string name, string problem)
    : ModulePlanException(name, "InvalidModuleName", $"'{name}' is not a module name or alias: {problem}.")
{
    public string Problem { get; } = problem;
}

/// <summary>No module, alias, symbol, command or built-in of that name.</summary>
public sealed class ModuleNotFoundException : ModulePlanException
{
    public ModuleNotFoundException(string name, string kernelVersion, string modulesDirectory)
        : base(name, "ModuleNotFound",
            $"Module '{name}' not found for kernel {kernelVersion}: no module, alias or symbol of that name in {modulesDirectory} " +
            "(modules.dep, modules.alias, modules.symbols, modules.builtin) and no alias or install command in modprobe.d.")
    {
        KernelVersion = kernelVersion;
    }

    /// <summary>A name that resolved, through configuration, to a module that is not installed.</summary>
    public ModuleNotFoundException(string name, string target, ConfigLocation via, string kernelVersion, string modulesDirectory)
        : base(name, "ModuleNotFound",
            $"'{name}' is an alias for module '{target}' ({via}), but no module '{target}' is installed for kernel {kernelVersion} " +
            $"in {modulesDirectory} and it is not built in.")
    {
        KernelVersion = kernelVersion;
        AliasTarget = target;
        AliasSource = via;
    }

    public string KernelVersion { get; }

    /// <summary>The module a configured alias names, when that is what is missing.</summary>
    public string? AliasTarget { get; }

    /// <summary>The modprobe.d file and line of that alias.</summary>
    public ConfigLocation? AliasSource { get; }
}

/// <summary>The module is in use: loaded modules hold it, or something else holds a reference.</summary>
public sealed class ModuleInUseException(string module, int referenceCount, IReadOnlyList<string> holders)
    : ModulePlanException(module, "ModuleInUse", Format(module, referenceCount, holders))
{
    public int ReferenceCount { get; } = referenceCount;
    public IReadOnlyList<string> Holders { get; } = holders;

    private static string Format(string module, int count, IReadOnlyList<string> holders) => holders.Count > 0
        ? $"Module {module} is in use by {string.Join(", ", holders)}."
        : $"Module {module} is in use (reference count {count}) but no loaded module holds it: a process, a mount, " +
          "a network interface or the kernel itself is using it.";
}

/// <summary>The module is part of the kernel image: it cannot be removed.</summary>
public sealed class ModuleBuiltinException(string module, string kernelVersion)
    : ModulePlanException(module, "ModuleBuiltin",
        $"Module {module} is built into kernel {kernelVersion} (modules.builtin), so it cannot be removed.")
{
    public string KernelVersion { get; } = kernelVersion;
}

/// <summary>The module (or a dependency it needs) is blacklisted and blacklists were told to stop loading.</summary>
public sealed class ModuleBlacklistedException(string module, ConfigBlacklist entry, string? neededBy)
    : ModulePlanException(module, "ModuleBlacklisted",
        neededBy is null
            ? $"Module {module} is blacklisted ({entry.Source})."
            : $"Module {neededBy} needs {module}, which is blacklisted ({entry.Source}).")
{
    public ConfigBlacklist Entry { get; } = entry;
    public string? NeededBy { get; } = neededBy;
}

/// <summary>A file that persistence would write already exists and was not written by LkmPowerShell.</summary>
public sealed class PersistenceConflictException(string module, string path)
    : ModulePlanException(module, "PersistenceConflict",
        $"{path} already exists and was not written by LkmPowerShell (its first line is not LkmPowerShell's header), so it was left alone.")
{
    public string Path { get; } = path;
}

/// <summary>
/// What was asked needs the kernel's module tree (a name to resolve, dependencies to walk), and
/// that kernel has none installed under the root. rmmod NAME and insmod PATH need no tree, so
/// they are not refused for this.
/// </summary>
public sealed class ModuleTreeMissingException : ModulePlanException
{
    public ModuleTreeMissingException(string module, ModuleTree.ModuleDirectory tree, string need)
        : this(module, tree.KernelVersion, tree.Path, need, ModuleTree.ModuleDirectory.InstalledKernelVersions(tree.Root))
    {
    }

    private ModuleTreeMissingException(string module, string kernelVersion, string modulesDirectory, string need, IReadOnlyList<string> installed)
        : base(module, "KernelNotInstalled",
            $"{need} needs the module tree of kernel {kernelVersion}, and {modulesDirectory} does not exist " +
            $"({(installed.Count > 0 ? "installed: " + string.Join(", ", installed) : "no kernel has modules installed there")}).")
    {
        KernelVersion = kernelVersion;
        ModulesDirectory = modulesDirectory;
        InstalledVersions = installed;
    }

    public string KernelVersion { get; }

    /// <summary>The folder that is missing, /lib/modules/&lt;version&gt; under the root.</summary>
    public string ModulesDirectory { get; }

    /// <summary>The kernel versions that have a tree under the root.</summary>
    public IReadOnlyList<string> InstalledVersions { get; }
}
