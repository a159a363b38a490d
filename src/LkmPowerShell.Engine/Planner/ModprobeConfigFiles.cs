namespace LkmPowerShell.Engine.Planner;

/// <summary>
/// Which modprobe.d files are read, in which order (libkmod-config.c, conf_files_list): every
/// <c>*.conf</c> and <c>*.alias</c> file of every directory, sorted by base name, the first
/// directory that has a given base name winning (so /etc overrides /lib). A path that is a file
/// is taken as one file under its base name. The tree's modules.softdep joins the same sorted list
/// under its own name, as in kmod.
/// </summary>
internal static class ModprobeConfigFiles
{
    /// <summary>A modprobe.d with more files than this is not a configuration directory.</summary>
    public const int MaxFiles = 10_000;

    public static IReadOnlyList<string> List(IEnumerable<string> paths, string? modulesSoftdep, ModprobeConfig.Builder warnings) =>
        List(paths, modulesSoftdep, warnings, null);

    /// <summary>
    /// As <see cref="List(IEnumerable{string}, string?, ModprobeConfig.Builder)"/>, and collects into
    /// <paramref name="masked"/> every file kmod skips because an earlier directory has a file of
    /// the same base name (the file, and the one that masks it).
    /// </summary>
    public static IReadOnlyList<string> List(IEnumerable<string> paths, string? modulesSoftdep, ModprobeConfig.Builder warnings,
        List<MaskedConfigFile>? masked)
    {
        var byName = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (modulesSoftdep is not null && File.Exists(modulesSoftdep))
            byName[Path.GetFileName(modulesSoftdep)] = modulesSoftdep;
        foreach (var path in paths)
        {
            if (File.Exists(path))
            {
                Add(byName, Path.GetFileName(path), path, masked);
                continue;
            }
            if (!Directory.Exists(path)) continue; // a missing directory is normal (/run/modprobe.d)
            IEnumerable<FileSystemInfo> entries;
            try
            {
                entries = new DirectoryInfo(path).EnumerateFileSystemInfos().Take(MaxFiles + 1).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                warnings.Warn(new ConfigLocation(path, 0), $"the directory could not be listed ({e.Message}); it was skipped");
                continue;
            }
            var count = 0;
            foreach (var entry in entries)
            {
                if (++count > MaxFiles)
                {
                    warnings.Warn(new ConfigLocation(path, 0), $"more than {MaxFiles:N0} entries; the rest were skipped");
                    break;
                }
                var name = entry.Name;
                if (name.StartsWith('.') || !(name.EndsWith(".conf", StringComparison.Ordinal) || name.EndsWith(".alias", StringComparison.Ordinal)))
                    continue;
                if (entry is DirectoryInfo)
                {
                    warnings.Warn(new ConfigLocation(entry.FullName, 0), "directories inside modprobe.d are not read (kmod does not support them)");
                    continue;
                }
                Add(byName, name, entry.FullName, masked);
            }
        }
        return [.. byName.Values];
    }

    private static void Add(SortedDictionary<string, string> byName, string name, string path, List<MaskedConfigFile>? masked)
    {
        if (!byName.TryAdd(name, path))
            masked?.Add(new MaskedConfigFile(path, byName[name]));
    }
}

/// <summary>A modprobe.d file kmod does not read because <paramref name="MaskedBy"/> has the same base name and comes first.</summary>
public sealed record MaskedConfigFile(string Path, string MaskedBy);
