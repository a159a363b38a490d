using System.Collections;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Completion;

/// <summary>Where a module name can come from when completing it.</summary>
internal enum ModuleNameSource
{
    /// <summary>Modules loaded in the running kernel (or the root's /proc/modules).</summary>
    Loaded,

    /// <summary>Modules installed for the kernel in question.</summary>
    Installed,

    /// <summary>Installed modules and the concrete aliases that name them (fs-msdos, net-pf-10 ...).</summary>
    InstalledAndAliases,
}

/// <summary>Module names for tab completion, from the source a parameter can actually match.</summary>
internal static class KernelModuleNames
{
    private const int Limit = 500;

    public static IEnumerable<string> Complete(string word, IDictionary bound, ModuleNameSource source)
    {
        var root = Completions.RootOf(bound);
        var prefix = ModuleName.Normalize(word.Trim('\'', '"'));
        if (source == ModuleNameSource.Loaded)
            return Loaded(root, prefix);
        if (ModuleTrees.InstalledVersion(root, bound["KernelVersion"] as string) is not { } version)
            return [];
        var directory = root.ModulesDirectory(version);
        var stamp = string.Join('|', new[] { "modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin" }
            .Select(f => CompletionCache.FileStamp(Path.Join(directory, f))));
        var withAliases = source == ModuleNameSource.InstalledAndAliases;
        var names = CompletionCache.Names((withAliases ? "names+aliases:" : "names:") + directory, stamp, () => Read(root, version, withAliases));
        // Module names are normalised (- to _) before matching; aliases are matched as typed.
        var raw = word.Trim('\'', '"');
        return CompletionCache.WithPrefix(names, prefix, Limit)
            .Concat(prefix == raw ? [] : CompletionCache.WithPrefix(names, raw, Limit))
            .Distinct().Order(StringComparer.Ordinal).Take(Limit).ToList();
    }

    private static IEnumerable<string> Read(SystemRoot root, string version, bool withAliases)
    {
        var directory = ModuleDirectory.Open(root, version);
        var names = directory.Modules().Select(m => m.Name);
        // Aliases are patterns; only the concrete ones (no fnmatch characters) are names a user
        // would type, and modprobe takes them as they are written.
        return withAliases
            ? names.Concat(directory.Aliases().Select(a => a.Pattern).Where(p => p.IndexOfAny(['*', '?', '[']) < 0))
            : names;
    }

    private static IEnumerable<string> Loaded(SystemRoot root, string prefix)
    {
        var kernel = new RunningKernel(root);
        if (!kernel.SupportsModules)
            return [];
        return kernel.ProcModules.Read().Select(m => m.Name)
            .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).Take(Limit).ToList();
    }
}
