namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// Finds module files by walking /lib/modules/&lt;version&gt;, for a tree that depmod has not
/// indexed yet (Debian's packages ship without modules.dep; depmod runs at install time).
/// </summary>
internal static class ModuleTreeScanner
{
    /// <summary>Deeper than any kernel tree (Debian's deepest is 8 levels); stops a runaway walk.</summary>
    private const int MaxDepth = 32;

    /// <summary>
    /// Every module file, one per name. Like depmod's default search order, a file under
    /// updates/ beats one elsewhere; otherwise the first path in ordinal order wins.
    /// </summary>
    public static IReadOnlyList<InstalledModule> Scan(string modulesDirectory)
    {
        var files = new List<string>();
        Walk(modulesDirectory, "", 0, files);
        files.Sort(StringComparer.Ordinal);
        var byName = new Dictionary<string, InstalledModule>(StringComparer.Ordinal);
        foreach (var relative in files.Where(f => f.StartsWith("updates/", StringComparison.Ordinal))
                     .Concat(files.Where(f => !f.StartsWith("updates/", StringComparison.Ordinal))))
        {
            var module = InstalledModule.FromIndexPath(relative, modulesDirectory);
            byName.TryAdd(module.Name, module);
        }
        return [.. byName.Values.OrderBy(m => m.IndexPath, StringComparer.Ordinal)];
    }

    private static void Walk(string directory, string relative, int depth, List<string> files)
    {
        if (depth > MaxDepth) return;
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            var name = entry.Name;
            var relativePath = relative.Length == 0 ? name : relative + "/" + name;
            if (entry is DirectoryInfo dir)
            {
                if (ModuleFileNames.IsSkippedFolder(name)) continue;
                // A symlinked folder could loop; kernel trees do not use them for modules.
                if (dir.LinkTarget is not null) continue;
                Walk(dir.FullName, relativePath, depth + 1, files);
            }
            else if (ModuleFileNames.IsModuleFile(name))
            {
                files.Add(relativePath);
            }
        }
    }
}
