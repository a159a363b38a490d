namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// depmod -A (kmod's depfile_up_to_date): the index is current when no module file under the
/// modules folder has a modification time (whole seconds) later than modules.dep's. It checks the
/// modules.dep that would be replaced, so with an output folder it looks there; kmod looks in the
/// modules folder even with -o.
/// </summary>
internal static class QuickCheck
{
    public static bool IsUpToDate(string modulesDirectory, string outputDirectory)
    {
        var dep = NativeFile.Stat(Path.Join(outputDirectory, "modules.dep"));
        if (dep is null)
            return false;
        return !HasNewer(modulesDirectory, dep.Value.MtimeSeconds, 0);
    }

    private static bool HasNewer(string directory, long mtime, int depth)
    {
        if (depth > 40)
            return false;
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // kmod ignores what it cannot read here
        }
        foreach (var entry in entries)
        {
            var name = Path.GetFileName(entry);
            if (ModuleTree.ModuleFileNames.IsSkippedFolder(name))
                continue;
            var id = NativeFile.Stat(entry);
            if (id is null)
                continue;
            if (id.Value.IsDirectory)
            {
                if (HasNewer(entry, mtime, depth + 1)) return true;
            }
            else if (id.Value.IsRegularFile && ModuleTree.ModuleFileNames.IsModuleFile(name) && id.Value.MtimeSeconds > mtime)
            {
                return true;
            }
        }
        return false;
    }
}
