using System.Text;
using System.Text.RegularExpressions;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>One entry of a depmod.d "search" line.</summary>
internal sealed record SearchEntry(SearchKind Kind, string Path);

internal enum SearchKind
{
    /// <summary>A subfolder of the modules folder ("updates", "extra").</summary>
    Path,

    /// <summary>"built-in": the rest of the modules folder.</summary>
    BuiltIn,

    /// <summary>"external": the folders of "external" lines.</summary>
    External,
}

/// <summary>
/// depmod.d as kmod 30's depmod reads it (tools/depmod.c, cfg_load): the *.conf files of the
/// given folders, sorted by file name, the first file of each name winning; lines joined at a
/// trailing "\"; the commands search, override, external and exclude. The lists are kept in
/// kmod's order, which is the reverse of the files' order (kmod prepends each entry), because
/// kmod's priority rules count positions in those lists.
/// </summary>
internal sealed class DepmodConfiguration
{
    public List<SearchEntry> Searches { get; } = [];

    /// <summary>"subdir/modname" of each matching override line, newest first.</summary>
    public List<string> Overrides { get; } = [];

    /// <summary>Absolute system paths of matching external lines, newest first.</summary>
    public List<string> Externals { get; } = [];

    public HashSet<string> Excludes { get; } = new(StringComparer.Ordinal);

    /// <summary>The configuration files read, in the order they were parsed.</summary>
    public List<string> Files { get; } = [];

    public static DepmodConfiguration Load(IEnumerable<string> paths, string kernelVersion, Action<DepmodWarning> warn, SystemRoot? root = null)
    {
        var config = new DepmodConfiguration();
        var byName = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in paths)
            ListFiles(path, byName);
        foreach (var file in byName.Values)
        {
            config.Files.Add(file);
            config.Parse(file, kernelVersion, warn, root?.Within(file));
        }
        // kmod: for backward compatibility "updates" comes first when no search line was given.
        if (config.Searches.Count == 0)
            config.Searches.Add(new SearchEntry(SearchKind.Path, "updates"));
        return config;
    }

    private static void ListFiles(string path, SortedDictionary<string, string> byName)
    {
        if (File.Exists(path))
        {
            byName.TryAdd(System.IO.Path.GetFileName(path), path);
            return;
        }
        if (!Directory.Exists(path))
            return;
        foreach (var entry in Directory.EnumerateFileSystemEntries(path))
        {
            var name = System.IO.Path.GetFileName(entry);
            if (name.StartsWith('.') || name.Length < 6 || !name.EndsWith(".conf", StringComparison.Ordinal))
                continue;
            if (Directory.Exists(entry))
                continue; // kmod: "Directories inside directories are not supported"
            byName.TryAdd(name, entry);
        }
    }

    private void Parse(string file, string kernelVersion, Action<DepmodWarning> warn, SystemRoot? within)
    {
        byte[] bytes;
        try
        {
            bytes = Engine.Files.SafeFile.ReadAll(file, Engine.Files.FileLimits.ConfigurationFile, within);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn(new DepmodWarning(DepmodWarningKind.Configuration, file, null, $"{file}: cannot be read: {e.Message}"));
            return;
        }
        foreach (var (line, number) in WrappedLines(Encoding.Latin1.GetString(bytes)))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
                continue;
            var ok = true;
            switch (words[0])
            {
                case "search":
                    foreach (var w in words.Skip(1))
                        Searches.Insert(0, w switch
                        {
                            "built-in" => new SearchEntry(SearchKind.BuiltIn, ""),
                            "external" => new SearchEntry(SearchKind.External, ""),
                            _ => new SearchEntry(SearchKind.Path, w),
                        });
                    break;
                case "override":
                    if (words.Length < 4) { ok = false; break; }
                    if (KernelMatches(words[2], kernelVersion))
                        Overrides.Insert(0, words[3] + "/" + words[1]);
                    break;
                case "external":
                    if (words.Length < 3) { ok = false; break; }
                    if (KernelMatches(words[1], kernelVersion))
                        Externals.Insert(0, words[2]);
                    break;
                case "exclude":
                    foreach (var w in words.Skip(1))
                        Excludes.Add(w);
                    break;
                case "include":
                case "make_map_files":
                    break; // kmod: "not implemented yet"
                default:
                    ok = false;
                    break;
            }
            if (!ok)
                warn(new DepmodWarning(DepmodWarningKind.Configuration, file, null,
                    $"{file}:{number}: ignoring bad line starting with '{words[0]}'"));
        }
    }

    /// <summary>Logical lines (<see cref="ConfigLines"/>), each numbered by its last physical line, as kmod's depmod reports them.</summary>
    private static IEnumerable<(string Line, int Number)> WrappedLines(string text) =>
        ConfigLines.Read(text).Select(l => (l.Text, l.LastNumber));

    /// <summary>"*", or a POSIX extended regular expression that must match somewhere in the version (regexec without anchors).</summary>
    internal static bool KernelMatches(string pattern, string kernelVersion)
    {
        if (pattern == "*")
            return true;
        try
        {
            return Regex.IsMatch(kernelVersion, pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            return false; // kmod: a pattern regcomp rejects matches nothing
        }
    }
}
