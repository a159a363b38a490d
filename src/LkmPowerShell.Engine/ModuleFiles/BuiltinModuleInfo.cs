namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// What modinfo knows of a module built into the kernel image: no file, only its records in
/// modules.builtin.modinfo (the kernel build's copy of its .modinfo), in that file's order.
/// kmod's modinfo prints these for a built-in name, with "(builtin)" for the file name.
/// </summary>
public sealed class BuiltinModuleInfo
{
    /// <summary>What kmod's modinfo prints for the file name of a built-in module.</summary>
    public const string FileNameText = "(builtin)";

    public BuiltinModuleInfo(string name, string kernelVersion, IReadOnlyList<ModInfoEntry> modInfo)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        KernelVersion = kernelVersion;
        ModInfo = modInfo ?? throw new ArgumentNullException(nameof(modInfo));
    }

    /// <summary>The module's name, as modules.builtin names it ("-" as "_").</summary>
    public string Name { get; }

    /// <summary>The kernel it is built into.</summary>
    public string KernelVersion { get; }

    /// <summary>Its modules.builtin.modinfo records, in file order; empty for a kernel without that file.</summary>
    public IReadOnlyList<ModInfoEntry> ModInfo { get; }

    public IReadOnlyList<ModuleParameterInfo> Parameters => ModuleParameterInfo.FromModinfo(ModInfo);

    public IEnumerable<string> GetValues(string key) => ModInfo.Where(e => e.Key == key).Select(e => e.Value);

    public string? GetValue(string key) => GetValues(key).FirstOrDefault();

    public override string ToString() => Name;
}
