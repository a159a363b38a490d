using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Configuration;

/// <summary>
/// A name that no kernel installed under a root knows: no module, built-in module or alias of that
/// name in any of their trees. <see cref="Nearest"/> holds the installed names nearest to it, as the
/// user spelled names ("usb-storage" for "usb-storgae").
/// </summary>
public sealed record UnknownModuleName(string Name, IReadOnlyList<string> KernelVersions, IReadOnlyList<string> Nearest);

/// <summary>
/// Whether a module name means anything to the kernels installed under a root. A setting for a
/// name no kernel has (a typo in a hardening list) is still valid configuration, and disables
/// nothing: a caller warns with this instead of refusing.
/// </summary>
public sealed class InstalledModuleNames(SystemRoot root)
{
    // Opened once per instance, however many names are checked (a hardening run checks ten or more).
    private List<string>? _versions;
    private List<ModuleDirectory>? _trees;
    private IReadOnlyList<string>? _allNames;

    /// <summary>
    /// Null when some installed kernel has a module, built-in module or alias of that name, when
    /// no kernel is installed under the root (nothing to judge by), or when it is a path; else the facts, with the
    /// nearest installed names. Found names cost one index lookup a kernel; the list of names is
    /// read only for a name that is not found.
    /// </summary>
    public static UnknownModuleName? Check(SystemRoot root, string name) => new InstalledModuleNames(root).Check(name);

    /// <summary>What <see cref="Check(SystemRoot, string)"/> says, with the trees read once for every name this instance checks.</summary>
    public UnknownModuleName? Check(string name)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/') || name.Contains('\0'))
            return null; // a path is no module name: refused as such by whoever writes it
        _versions ??= ModuleDirectory.InstalledKernelVersions(root).Where(v => ModuleDirectory.KernelVersionProblem(v) is null).ToList();
        if (_versions.Count == 0)
            return null;
        _trees ??= _versions.Select(v => ModuleDirectory.Open(root, v)).ToList();
        if (_trees.Any(t => Knows(t, name)))
            return null;
        IReadOnlyList<string> nearest;
        try
        {
            _allNames ??= [.. _trees.SelectMany(t => t.Modules().Select(m => m.Name).Concat(t.BuiltinModules())).Distinct(StringComparer.Ordinal)];
            nearest = NameSuggestions.Nearest(ModuleName.Normalize(name), _allNames);
        }
        catch (Exception e) when (Unreadable(e))
        {
            nearest = []; // the name is still unknown; only the suggestion is lost
        }
        // Said as the user writes it: "usb-storage" to someone who typed "usb-storgae".
        var dashed = name.Contains('-') && !name.Contains('_');
        return new UnknownModuleName(name, _versions, [.. nearest.Select(n => dashed ? n.Replace('_', '-') : n)]);
    }

    private static bool Knows(ModuleDirectory tree, string name)
    {
        try
        {
            return tree.FindModule(name) is not null || tree.IsBuiltin(name)
                || tree.ResolveAlias(name).Count > 0 || tree.ResolveBuiltinAlias(name).Count > 0;
        }
        catch (Exception e) when (Unreadable(e))
        {
            return true; // a tree that cannot be read cannot say the name is unknown
        }
    }

    private static bool Unreadable(Exception e) =>
        e is IOException or UnauthorizedAccessException or ModuleFormatException or InvalidDataException;
}
