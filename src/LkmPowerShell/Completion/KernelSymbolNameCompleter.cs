using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Completion;

/// <summary>
/// Completes symbol names for Find-KernelSymbol: from the running kernel's /proc/kallsyms, or with
/// -ListAvailable, -Path or -LiteralPath from the symbols the installed modules export
/// (modules.symbols). The sorted list is cached while its source is unchanged, so a warm Tab is a
/// binary search over 120,000 names. Never throws.
/// </summary>
public sealed class KernelSymbolNameCompleter : IArgumentCompleter
{
    private const int Limit = 500;

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() =>
        {
            var root = Completions.RootOf(fakeBoundParameters);
            var word = wordToComplete.Trim('\'', '"');
            var fromTree = fakeBoundParameters.Contains("ListAvailable") || fakeBoundParameters.Contains("Path") || fakeBoundParameters.Contains("LiteralPath");
            var names = fromTree ? TreeSymbols(root, fakeBoundParameters["KernelVersion"] as string) : KernelSymbols(root);
            return CompletionCache.WithPrefix(names, word, Limit);
        });

    private static string[] KernelSymbols(SystemRoot root)
    {
        var kallsyms = new KallsymsReader(root);
        if (!kallsyms.Exists)
            return [];
        // /proc/kallsyms has no useful size or time; its content changes only when modules come
        // or go, which /proc/modules shows, so that is its stamp.
        var modules = root.Resolve("/proc/modules");
        var stamp = File.Exists(modules) ? File.ReadAllText(modules) : CompletionCache.FileStamp(kallsyms.Path);
        return CompletionCache.Names("kallsyms:" + kallsyms.Path, stamp, () => kallsyms.Read().Select(s => s.Name));
    }

    private static string[] TreeSymbols(SystemRoot root, string? version)
    {
        if (ModuleTrees.InstalledVersion(root, version) is not { } installed)
            return [];
        var directory = root.ModulesDirectory(installed);
        var stamp = CompletionCache.FileStamp(Path.Join(directory, "modules.symbols")) + "|" + CompletionCache.FileStamp(Path.Join(directory, "modules.symbols.bin"));
        return CompletionCache.Names("symbols:" + directory, stamp, () => ModuleDirectory.Open(root, installed).ExportedSymbols().Select(s => s.Symbol));
    }
}
