namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// Reads modules.order, the kernel build's list of module paths in link order. depmod numbers
/// modules by it, and it decides which module wins when two export the same symbol.
/// </summary>
internal static class ModulesOrderFile
{
    public const string FileName = "modules.order";

    /// <summary>The paths as written ("kernel/fs/fat/fat.ko"), in file order.</summary>
    public static IReadOnlyList<string> Read(string path, SystemRoot? within = null) =>
        [.. BoundedFile.ReadLines(path, within).Select(l => l.Text.Trim()).Where(t => t.Length > 0 && t[0] != '#')];
}
