using System.Collections;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell;

/// <summary>Module names for tab completion: loaded ones, then the installed ones of the kernel in question.</summary>
internal static class KernelModuleNames
{
    public static IEnumerable<string> Complete(string word, IDictionary bound)
    {
        var root = new SystemRoot(bound["Root"] as string ?? "/");
        var prefix = ModuleName.Normalize(word.Trim('\\'', '"'));
        var names = new SortedSet<string>(StringComparer.Ordinal);
        var kernel = new RunningKernel(root);
        if (kernel.SupportsModules && !bound.Contains("ListAvailable"))
            foreach (var m in kernel.ProcModules.Read())
                if (m.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                    names.Add(m.Name);
        var version = bound["KernelVersion"] as string ?? ModuleTrees.DefaultVersion(root);
        if (version is not null && Directory.Exists(root.ModulesDirectory(version)))
            foreach (var m in ModuleDirectory.Open(root, version).Modules())
                if (m.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                    names.Add(m.Name);
        return names.Take(500);
    }
}
