namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// One line of modules.dep (also the value of each key in modules.dep.bin):
/// <c>kernel/fs/fat/msdos.ko: kernel/fs/fat/fat.ko</c>. The dependencies are the whole
/// transitive closure in depmod's order; modprobe loads the last one first.
/// </summary>
internal sealed record ModuleDependencyLine(InstalledModule Module, IReadOnlyList<InstalledModule> Dependencies);

/// <summary>Reads modules.dep, depmod's text list of modules and their dependencies.</summary>
internal static class ModulesDepFile
{
    public const string FileName = "modules.dep";

    /// <param name="path">The modules.dep file.</param>
    /// <param name="modulesDirectory">The folder relative paths are resolved against (normally the file's own).</param>
    /// <param name="within">The root the tree is under: its paths are kept inside it.</param>
    public static IReadOnlyList<ModuleDependencyLine> Read(string path, string modulesDirectory, SystemRoot? within = null)
    {
        var lines = new List<ModuleDependencyLine>();
        foreach (var line in BoundedFile.ReadLines(path, within))
        {
            if (line.Text.Length == 0 || line.Text[0] == '#') continue;
            lines.Add(ParseLine(line.Text, modulesDirectory, path, line.Offset, within));
        }
        return lines;
    }

    /// <summary>Parses one "path: dep dep ..." line.</summary>
    public static ModuleDependencyLine ParseLine(string text, string modulesDirectory, string path = FileName, long offset = -1, SystemRoot? within = null)
    {
        // kmod splits at the first ':'; module paths never contain one.
        var colon = text.IndexOf(':');
        if (colon <= 0)
            throw new ModuleFormatException(path, offset, $"'{Shorten(text)}' is not a modules.dep line (\"path: dependencies\")");
        var module = InstalledModule.FromIndexPath(text[..colon].Trim(), modulesDirectory, within);
        var dependencies = text[(colon + 1)..]
            .Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(p => InstalledModule.FromIndexPath(p, modulesDirectory, within))
            .ToArray();
        return new ModuleDependencyLine(module, dependencies);
    }

    /// <summary>Only the module of one "path: dependencies ..." line: what a listing needs, without making the dependencies.</summary>
    public static InstalledModule ParseModule(string text, string modulesDirectory, string path = FileName, long offset = -1, SystemRoot? within = null) =>
        ParseModule(text, modulesDirectory, path, offset, within, directoryContained: false);

    /// <remarks>directoryContained: the caller checked that the modules directory is already inside
    /// the root as <see cref="SystemRoot.Contain"/> would make it (see InstalledModule.FromIndexPath).</remarks>
    internal static InstalledModule ParseModule(string text, string modulesDirectory, string path, long offset, SystemRoot? within, bool directoryContained)
    {
        var colon = text.IndexOf(':');
        if (colon <= 0)
            throw new ModuleFormatException(path, offset, $"'{Shorten(text)}' is not a modules.dep line (\"path: dependencies\")");
        return InstalledModule.FromIndexPath(text[..colon].Trim(), modulesDirectory, within, directoryContained);
    }

    /// <summary>Only the dependencies' names of one line, in its order: what a filter on them needs, without paths.</summary>
    public static IReadOnlyList<string> DependencyNames(string text, string path = FileName)
    {
        var colon = text.IndexOf(':');
        if (colon <= 0)
            throw new ModuleFormatException(path, -1, $"'{Shorten(text)}' is not a modules.dep line (\"path: dependencies\")");
        return [.. text[(colon + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(ModuleName.FromPath)];
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
