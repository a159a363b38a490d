namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// Reads /sys/module/&lt;name&gt;/ under a <see cref="SystemRoot"/>: the per-module attributes
/// that lsmod and modinfo-on-a-loaded-module use, and the list of built-in modules.
/// </summary>
/// <remarks>
/// A module can unload between any two reads. Every read tolerates that: a missing attribute is
/// null, and <see cref="Read"/> returns null when the module's directory is gone by the end.
/// </remarks>
public sealed class SysModuleReader
{
    public const string SystemPath = "/sys/module";

    public SysModuleReader(SystemRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        Root = root;
        Path = root.Resolve(SystemPath);
    }

    public SystemRoot Root { get; }

    /// <summary>/sys/module under the root.</summary>
    public string Path { get; }

    public bool Exists => Directory.Exists(Path);

    /// <summary>/sys/module/&lt;name&gt; under the root (the name normalised, as the kernel names these).</summary>
    public string ModuleDirectory(string name) => System.IO.Path.Join(Path, ModuleName.Normalize(name));

    /// <summary>
    /// Every name under /sys/module, loaded and built-in, sorted. Plain files there (6.4+ has
    /// /sys/module/compression) are not modules and are skipped.
    /// </summary>
    public IReadOnlyList<string> EnumerateNames()
    {
        if (!Exists) return [];
        var names = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(Path))
            names.Add(System.IO.Path.GetFileName(dir));
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>
    /// Built-in modules that have a /sys/module entry: those without initstate. Built-ins without
    /// parameters or a version have no entry; modules.builtin lists all of them.
    /// </summary>
    public IReadOnlyList<string> EnumerateBuiltinNames() =>
        EnumerateNames().Where(n => IsBuiltinDirectory(System.IO.Path.Join(Path, n))).ToList();

    /// <summary>
    /// Everything /sys/module/&lt;name&gt; says, or null when there is no such directory (not
    /// loaded, not a built-in with parameters, or unloaded while we read).
    /// </summary>
    public SysModuleInfo? Read(string name)
    {
        var dir = ModuleDirectory(name);
        if (!Directory.Exists(dir)) return null;

        // Every attribute is read inside the root (a link in an image never leads out of it).
        var within = Root.IsHost ? null : Root;
        var initState = SysfsAttribute.Read(System.IO.Path.Join(dir, "initstate"), within);
        var info = new SysModuleInfo(
            Name: System.IO.Path.GetFileName(dir),
            IsBuiltin: !initState.Exists,
            State: initState.Value is { } s ? ModuleStates.FromInitState(s.Trim()) : null,
            ReferenceCount: SysfsAttribute.ReadInt64(System.IO.Path.Join(dir, "refcnt"), within) is { } r ? (int)r : null,
            CoreSize: SysfsAttribute.ReadInt64(System.IO.Path.Join(dir, "coresize"), within),
            InitSize: SysfsAttribute.ReadInt64(System.IO.Path.Join(dir, "initsize"), within),
            Taint: SysfsAttribute.Read(System.IO.Path.Join(dir, "taint"), within).Value?.Trim(),
            Version: SysfsAttribute.Read(System.IO.Path.Join(dir, "version"), within).Value,
            SourceVersion: SysfsAttribute.Read(System.IO.Path.Join(dir, "srcversion"), within).Value,
            Holders: ReadHolders(name),
            Parameters: ReadParameters(name));

        // initstate read as missing may only mean the module unloaded meanwhile: a module that
        // is gone now is reported as gone, not as a built-in.
        return Directory.Exists(dir) ? info : null;
    }

    /// <summary>The names in /sys/module/&lt;name&gt;/holders/, in directory order (as lsmod prints them); empty when none or gone.</summary>
    public string[] ReadHolders(string name)
    {
        var dir = System.IO.Path.Join(ModuleDirectory(name), "holders");
        try
        {
            // Entries are symlinks to the holders' /sys/module directories: only the names matter.
            return Directory.EnumerateFileSystemEntries(dir).Select(System.IO.Path.GetFileName).ToArray()!;
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    /// <summary>
    /// Every file in /sys/module/&lt;name&gt;/parameters/, sorted by name, each with its value or
    /// the reason it cannot be read. Empty when the module has no parameters (or is gone).
    /// </summary>
    public IReadOnlyList<ModuleParameterValue> ReadParameters(string name)
    {
        // The folder resolved inside the root and held open; each attribute read relative to it,
        // never through a link (sysfs has none there; an image that has one is not followed out).
        List<string> files;
        using var folder = OpenParameters(name);
        if (folder is null)
            return [];
        files = [.. folder.Names()];
        files.Sort(StringComparer.Ordinal);
        var result = new List<ModuleParameterValue>(files.Count);
        foreach (var file in files)
        {
            var read = SysfsAttribute.Read(folder, file);
            if (!read.Exists) continue; // vanished with its module
            result.Add(new ModuleParameterValue(file, read.Value, read.Problem));
        }
        return result;
    }

    /// <summary>/sys/module/&lt;name&gt;/parameters, resolved inside the root and held open; null when there is none (not loaded, or gone).</summary>
    internal Files.ContainedFolder? OpenParameters(string name)
    {
        try
        {
            return Files.ContainedFolder.Open(Root, $"{SystemPath}/{ModuleName.Normalize(name)}/parameters");
        }
        catch (IOException)
        {
            return null; // not a folder (a file, a FIFO, a link loop): no parameters to show
        }
    }

    private static bool IsBuiltinDirectory(string dir) =>
        !File.Exists(System.IO.Path.Join(dir, "initstate")) && Directory.Exists(dir);
}
