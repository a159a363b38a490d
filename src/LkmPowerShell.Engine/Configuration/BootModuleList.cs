using System.Text;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Configuration;

/// <summary>Which boot-time list named a module.</summary>
public enum BootModuleOrigin
{
    /// <summary><c>modules-load=</c> (or <c>modules_load=</c>) on the kernel command line; systemd-modules-load loads these first.</summary>
    KernelCommandLine,
    /// <summary>A <c>*.conf</c> file of a modules-load.d directory.</summary>
    ModulesLoadDirectory,
    /// <summary>Debian's /etc/modules, read by its kmod init script (and by systemd through the modules-load.d/modules.conf link).</summary>
    DebianModulesFile,
}

/// <summary>
/// One module that will be loaded at boot, where it is listed, and what it resolves to for the
/// target kernel. <see cref="Installed"/> is null when no module tree was given.
/// </summary>
public sealed record BootModuleEntry(string Name, BootModuleOrigin Origin, string Source, int Line, string? Parameters, bool? Installed, string? ResolvesTo)
{
    public string Location => Line > 0 ? $"{Source}:{Line}" : Source;

    public override string ToString() => $"{Name} ({Location})";
}

/// <summary>
/// What systemd-modules-load (systemd 252, Debian 12) loads at boot: the kernel command line's
/// <c>modules-load=</c> first, then every <c>*.conf</c> of /etc, /run, /usr/local/lib, /usr/lib and
/// /lib modules-load.d, sorted by base name, a file in an earlier directory hiding any later file
/// of the same name (so /etc overrides /usr/lib, and a link to /dev/null masks). A line is a
/// module name; blank lines and lines starting with '#' or ';' are skipped. Debian's /etc/modules
/// is listed too, unless a modules-load.d file already is that file (Debian links
/// /etc/modules-load.d/modules.conf to it).
/// </summary>
public static class BootModuleList
{
    public static IReadOnlyList<string> Directories { get; } =
        ["/etc/modules-load.d", "/run/modules-load.d", "/usr/local/lib/modules-load.d", "/usr/lib/modules-load.d", "/lib/modules-load.d"];

    public const string DebianModulesFile = "/etc/modules";

    /// <summary>Files larger than this are not module lists; they are skipped with a warning.</summary>

    /// <summary>
    /// The entries under <paramref name="root"/>, each resolved against <paramref name="tree"/>
    /// (when given) as modprobe would resolve it. <paramref name="kernelCommandLine"/>: null reads
    /// /proc/cmdline under the root.
    /// </summary>
    public static IReadOnlyList<BootModuleEntry> Read(SystemRoot root, ModuleDirectory? tree, string? kernelCommandLine, ICollection<string>? warnings = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        var entries = new List<BootModuleEntry>();
        foreach (var name in CommandLineModules(kernelCommandLine ?? KernelCommandLine.Read(root)))
            entries.Add(new BootModuleEntry(name, BootModuleOrigin.KernelCommandLine, ConfigLocation.KernelCommandLine, 0, null, null, null));

        var byName = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in Directories)
        {
            var real = root.ResolveFolder(dir);
            if (!System.IO.Directory.Exists(real)) continue;
            foreach (var file in System.IO.Directory.EnumerateFiles(real, "*.conf").Take(10_000))
                byName.TryAdd(Path.GetFileName(file), file);
        }
        // Every file is opened inside the root (a link in an image never leads out of it).
        var within = root.IsHost ? null : root;
        var debian = root.Resolve(DebianModulesFile);
        var debianIdentity = Identity(debian, within);
        var debianReadAlready = false;
        foreach (var file in byName.Values)
        {
            if (debianIdentity is not null && Identity(file, within) == debianIdentity) debianReadAlready = true;
            entries.AddRange(ReadList(file, file, BootModuleOrigin.ModulesLoadDirectory, within, warnings));
        }
        if (!debianReadAlready)
            entries.AddRange(ReadList(debian, debian, BootModuleOrigin.DebianModulesFile, within, warnings));

        if (tree is null) return entries;
        var resolver = new ModuleResolver(tree, ModprobeConfig.Load(root, tree, kernelCommandLine));
        return [.. entries.Select(e => Resolve(e, resolver))];
    }

    /// <summary>The names of <c>modules-load=a,b</c> and <c>modules_load=c</c> on the command line, in order.</summary>
    public static IReadOnlyList<string> CommandLineModules(string commandLine)
    {
        var names = new List<string>();
        foreach (var word in commandLine.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = word.IndexOf('=');
            if (eq < 0 || !ModuleParameters.SameName(word[..eq], "modules_load")) continue;
            names.AddRange(word[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries));
        }
        return names;
    }

    private static BootModuleEntry Resolve(BootModuleEntry entry, ModuleResolver resolver)
    {
        try
        {
            var resolution = resolver.Resolve(entry.Name);
            return entry with { Installed = resolution.Found, ResolvesTo = resolution.Found ? string.Join(",", resolution.Modules.Select(m => m.IsBuiltin ? m.Name + " (built-in)" : m.Name)) : null };
        }
        catch (InvalidModuleNameException)
        {
            return entry with { Installed = false };
        }
    }

    private static IEnumerable<BootModuleEntry> ReadList(string path, string display, BootModuleOrigin origin, SystemRoot? within, ICollection<string>? warnings)
    {
        string text;
        try
        {
            // The one bounded, non-blocking reader: a FIFO or an oversized file is refused, not read.
            text = Encoding.UTF8.GetString(Files.SafeFile.ReadAll(path, Files.FileLimits.ConfigurationFile, within));
        }
        catch (FileNotFoundException)
        {
            return []; // not there (inside the root): nothing listed, as systemd skips it
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warnings?.Add($"{display}: could not be read ({e.Message}); skipped");
            return [];
        }
        var result = new List<BootModuleEntry>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            // systemd takes the whole line as the name; Debian's init script allows parameters after it.
            var space = line.IndexOfAny([' ', '\t']);
            var name = space < 0 ? line : line[..space];
            var parameters = space < 0 ? null : line[(space + 1)..].Trim();
            result.Add(new BootModuleEntry(name, origin, display, number, parameters, null, null));
        }
        return result;
    }

    /// <summary>
    /// The file's device and inode, opened as it is read (inside the root): Debian links
    /// modules-load.d/modules.conf to /etc/modules, and a file listed twice is read once. Null when
    /// it cannot be opened (absent, a FIFO, a link out of the root).
    /// </summary>
    private static (ulong Device, ulong Inode)? Identity(string path, SystemRoot? within)
    {
        try
        {
            using var handle = Files.SafeFile.Open(path, Files.FileLimits.ConfigurationFile, within, out _);
            return Depmod.NativeFile.Stat(handle) is { } id ? (id.Device, id.Inode) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
