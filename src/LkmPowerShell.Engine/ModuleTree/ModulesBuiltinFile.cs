namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>A module built into the kernel image, from modules.builtin.</summary>
/// <param name="Name">The normalised name ("amd_uncore").</param>
/// <param name="IndexPath">The path it would have had as a file ("kernel/arch/x86/events/amd/amd-uncore.ko").</param>
internal sealed record BuiltinModule(string Name, string IndexPath)
{
    public override string ToString() => Name;
}

/// <summary>Reads modules.builtin, which the kernel build writes (depmod turns it into modules.builtin.bin).</summary>
internal static class ModulesBuiltinFile
{
    public const string FileName = "modules.builtin";

    public static IReadOnlyList<BuiltinModule> Read(string path, SystemRoot? within = null)
    {
        var result = new List<BuiltinModule>();
        foreach (var line in BoundedFile.ReadLines(path, within))
        {
            var text = line.Text.Trim();
            // depmod takes only lines that start with a letter (a path such as "kernel/...").
            if (text.Length == 0 || !char.IsAsciiLetter(text[0])) continue;
            result.Add(new BuiltinModule(ModuleName.FromPath(text), text));
        }
        return result;
    }
}
