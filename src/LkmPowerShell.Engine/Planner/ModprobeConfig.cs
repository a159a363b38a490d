using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Planner;

/// <summary>
/// modprobe's configuration as kmod 30 builds it (libkmod-config.c): the modprobe.d files, the
/// module tree's modules.softdep and the kernel command line, each list in the order kmod keeps it
/// (files by base name, lines in file order, the command line last). Immutable once loaded.
/// </summary>
/// <remarks>
/// Names are normalised ("-" to "_") as kmod normalises them. Every name, pattern, option and
/// command is a byte string (<see cref="ByteText"/>): the file's bytes, one char each, so they are
/// matched, run and printed byte for byte as kmod does. Malformed lines are
/// <see cref="Warnings"/> with file and line, never exceptions: a broken file in /etc/modprobe.d
/// must not stop a module from loading, as it does not stop modprobe.
/// </remarks>
public sealed class ModprobeConfig
{
    /// <summary>kmod 30's search path; the first directory holding a given file name wins.</summary>
    public static IReadOnlyList<string> DefaultDirectories { get; } =
        ["/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d"];

    public static ModprobeConfig Empty { get; } = new Builder().Build();

    private ModprobeConfig(Builder b)
    {
        Files = [.. b.Files];
        Aliases = [.. b.Aliases];
        Options = [.. b.Options];
        InstallCommands = [.. b.InstallCommands];
        RemoveCommands = [.. b.RemoveCommands];
        Blacklist = [.. b.Blacklist];
        SoftDependencies = [.. b.SoftDependencies];
        WeakDependencies = [.. b.WeakDependencies];
        Warnings = [.. b.Warnings];
        MaskedFiles = [.. b.MaskedFiles];
        _aliases = new(Aliases, a => a.Pattern);
        _options = new(Options, o => o.Module);
        _install = new(InstallCommands, c => c.ModulePattern);
        _remove = new(RemoveCommands, c => c.ModulePattern);
        _blacklist = new(Blacklist, b => b.Module);
        _softdeps = new(SoftDependencies, s => s.ModulePattern);
    }

    // Lookups by module name, answered as a scan in file order would answer them (see PatternIndex).
    private readonly PatternIndex<ConfigAlias> _aliases;
    private readonly PatternIndex<ConfigOptions> _options;
    private readonly PatternIndex<ConfigCommand> _install;
    private readonly PatternIndex<ConfigCommand> _remove;
    private readonly PatternIndex<ConfigBlacklist> _blacklist;
    private readonly PatternIndex<ConfigSoftDependency> _softdeps;

    /// <summary>The files read, in the order read.</summary>
    public IReadOnlyList<string> Files { get; }
    public IReadOnlyList<ConfigAlias> Aliases { get; }
    public IReadOnlyList<ConfigOptions> Options { get; }
    public IReadOnlyList<ConfigCommand> InstallCommands { get; }
    public IReadOnlyList<ConfigCommand> RemoveCommands { get; }
    public IReadOnlyList<ConfigBlacklist> Blacklist { get; }
    public IReadOnlyList<ConfigSoftDependency> SoftDependencies { get; }
    public IReadOnlyList<ConfigWeakDependency> WeakDependencies { get; }
    public IReadOnlyList<ConfigWarning> Warnings { get; }

    /// <summary>Files of the search path that were not read because a file of the same base name came first.</summary>
    public IReadOnlyList<MaskedConfigFile> MaskedFiles { get; }

    /// <summary>
    /// The configuration of a system: <see cref="DefaultDirectories"/> under <paramref name="root"/>,
    /// the modules.softdep of <paramref name="tree"/> when given, and the kernel command line
    /// (<paramref name="kernelCommandLine"/>, or /proc/cmdline under the root when null).
    /// </summary>
    public static ModprobeConfig Load(SystemRoot root, ModuleDirectory? tree = null, string? kernelCommandLine = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        return LoadFrom(DefaultDirectories.Select(root.ResolveFolder), tree, kernelCommandLine ?? KernelCommandLine.Read(root), root);
    }

    /// <summary>
    /// Like <c>modprobe -C PATH...</c>: the given directories or files (real paths) instead of the
    /// default search path, plus modules.softdep of <paramref name="tree"/> and the given kernel
    /// command line (null: none). Files under <paramref name="root"/> (or the tree's root) are read
    /// inside it: a link out of an untrusted image is not followed.
    /// </summary>
    public static ModprobeConfig LoadFrom(IEnumerable<string> paths, ModuleDirectory? tree = null, string? kernelCommandLine = null, SystemRoot? root = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var builder = new Builder();
        var softdep = tree is null ? null : Path.Join(tree.Path, ModulesSoftdepFile.FileName);
        foreach (var file in ModprobeConfigFiles.List(paths, softdep, builder, builder.MaskedFiles))
        {
            builder.Files.Add(file);
            ModprobeConfigParser.ParseFile(file, builder, (root ?? tree?.Root)?.Within(file));
        }
        if (kernelCommandLine is not null) KernelCommandLine.Parse(kernelCommandLine, builder);
        return builder.Build();
    }

    /// <summary>
    /// Parses configuration text as a file holding it in UTF-8 would be parsed, for tests and for
    /// checking a file before it is written. Values are byte strings (<see cref="ByteText"/>).
    /// </summary>
    public static ModprobeConfig Parse(string text, string fileName = "modprobe.conf", string? kernelCommandLine = null) =>
        ParseBytes(System.Text.Encoding.UTF8.GetBytes(text), fileName, kernelCommandLine);

    /// <summary>Parses a configuration file's bytes, as kmod reads them.</summary>
    public static ModprobeConfig ParseBytes(ReadOnlySpan<byte> bytes, string fileName = "modprobe.conf", string? kernelCommandLine = null)
    {
        var builder = new Builder();
        builder.Files.Add(fileName);
        ModprobeConfigParser.Parse(ByteText.FromBytes(bytes), fileName, builder);
        if (kernelCommandLine is not null) KernelCommandLine.Parse(kernelCommandLine, builder);
        return builder.Build();
    }

    /// <summary>
    /// The module's options as kmod's kmod_module_get_options builds them: every <c>options</c>
    /// entry naming the module or the alias it was found through, in order, joined by spaces
    /// (modprobe.d files first, then the kernel command line); null when there is none.
    /// </summary>
    public string? OptionsFor(string module, string? alias = null)
    {
        var parts = OptionEntriesFor(module, alias).Where(o => o.Options.Length > 0).Select(o => o.Options).ToList();
        return parts.Count == 0 ? null : string.Join(' ', parts);
    }

    /// <summary>The entries behind <see cref="OptionsFor"/>, for explaining where a parameter came from.</summary>
    public IReadOnlyList<ConfigOptions> OptionEntriesFor(string module, string? alias = null)
    {
        // Options name a module or alias exactly (kmod compares, it does not match): both, in file order.
        // Only a target reached through an alias has one: a scan then, an index lookup for every other module.
        var name = ModuleName.Normalize(module);
        if (alias is not null && alias != name)
            return [.. Options.Where(o => o.Module == name || o.Module == alias)];
        return [.. _options.Named(name)];
    }

    /// <summary>The first <c>install</c> line whose pattern matches the module name (fnmatch), as kmod picks it.</summary>
    public ConfigCommand? InstallCommandFor(string module) => _install.First(ModuleName.Normalize(module));

    /// <summary>The first <c>remove</c> line whose pattern matches the module name (fnmatch).</summary>
    public ConfigCommand? RemoveCommandFor(string module) => _remove.First(ModuleName.Normalize(module));

    /// <summary>The first <c>install</c> line whose pattern is this very name (kmod's lookup of a name that only a command knows).</summary>
    public ConfigCommand? InstallCommandNamed(string name) => _install.Named(name).FirstOrDefault();

    /// <summary>The first <c>remove</c> line whose pattern is this very name.</summary>
    public ConfigCommand? RemoveCommandNamed(string name) => _remove.Named(name).FirstOrDefault();

    /// <summary>The modprobe.d <c>alias</c> lines whose pattern matches the name (fnmatch), in file order.</summary>
    public IReadOnlyList<ConfigAlias> AliasesMatching(string name) => [.. _aliases.Matching(name)];

    /// <summary>
    /// Every <c>softdep</c> line whose pattern matches the module name, in order. kmod 30 uses only
    /// the first (kmod issue 33); the planner merges all unless told to behave like kmod.
    /// </summary>
    public IReadOnlyList<ConfigSoftDependency> SoftDependenciesFor(string module)
    {
        return [.. _softdeps.Matching(ModuleName.Normalize(module))];
    }

    /// <summary>The <c>weakdep</c> names of the module (never loaded; reported only).</summary>
    public IReadOnlyList<string> WeakDependenciesFor(string module)
    {
        var name = ModuleName.Normalize(module);
        return [.. WeakDependencies.Where(w => FnMatch.IsMatch(w.ModulePattern, name)).SelectMany(w => w.Modules)];
    }

    /// <summary>The <c>blacklist</c> entry for the module (exact name, as kmod compares), or null.</summary>
    public ConfigBlacklist? BlacklistEntryFor(string module)
    {
        return _blacklist.Named(ModuleName.Normalize(module)).FirstOrDefault();
    }

    public bool IsBlacklisted(string module) => BlacklistEntryFor(module) is not null;

    /// <summary>The mutable lists the parsers fill; <see cref="Build"/> freezes them.</summary>
    internal sealed class Builder
    {
        public List<string> Files { get; } = [];
        public List<ConfigAlias> Aliases { get; } = [];
        public List<ConfigOptions> Options { get; } = [];
        public List<ConfigCommand> InstallCommands { get; } = [];
        public List<ConfigCommand> RemoveCommands { get; } = [];
        public List<ConfigBlacklist> Blacklist { get; } = [];
        public List<ConfigSoftDependency> SoftDependencies { get; } = [];
        public List<ConfigWeakDependency> WeakDependencies { get; } = [];
        public List<ConfigWarning> Warnings { get; } = [];
        public List<MaskedConfigFile> MaskedFiles { get; } = [];

        public void Warn(ConfigLocation at, string message) => Warnings.Add(new ConfigWarning(at, message));

        public ModprobeConfig Build() => new(this);
    }
}
