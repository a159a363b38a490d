namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// Which files of a module tree are modules and which folders are never searched: one list for
/// every walk of a tree (depmod's search, its up-to-date check, and the scan of an unindexed tree).
/// </summary>
public static class ModuleFileNames
{
    /// <summary>
    /// kmod 30 as Debian builds it knows .ko, .ko.xz and .ko.zst (no zlib); .ko.gz is accepted too,
    /// as kmod builds with zlib do, since the engine can read it.
    /// </summary>
    public static readonly IReadOnlyList<string> Extensions = [".ko", ".ko.gz", ".ko.xz", ".ko.zst"];

    /// <summary>A module file's name: one of <see cref="Extensions"/> after at least one character.</summary>
    public static bool IsModuleFile(string name)
    {
        foreach (var ext in Extensions)
            if (name.Length > ext.Length && name.EndsWith(ext, StringComparison.Ordinal))
                return true;
        return false;
    }

    /// <summary>depmod skips these folders everywhere: they point at kernel headers and sources.</summary>
    public static bool IsSkippedFolder(string name) => name is "build" or "source";
}
