using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using LkmPowerShell.Engine;

namespace LkmPowerShell.Completion;

/// <summary>
/// Completes module names from where the parameter can match: Get-KernelModule's -Name offers
/// loaded modules, or installed ones with -ListAvailable. Never throws.
/// </summary>
public sealed class KernelModuleNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() => KernelModuleNames.Complete(wordToComplete, fakeBoundParameters,
            fakeBoundParameters.Contains("ListAvailable") ? ModuleNameSource.Installed : ModuleNameSource.Loaded));
}

/// <summary>Completes the names of loaded modules (what can be removed). Never throws.</summary>
public sealed class LoadedModuleNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() => KernelModuleNames.Complete(wordToComplete, fakeBoundParameters, ModuleNameSource.Loaded));
}

/// <summary>Completes installed module names and their concrete aliases (what can be loaded). Never throws.</summary>
public sealed class InstalledModuleNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() => KernelModuleNames.Complete(wordToComplete, fakeBoundParameters, ModuleNameSource.InstalledAndAliases));
}

/// <summary>What every completer shares: results as parameter values, and no exception ever reaching the user's typing.</summary>
internal static class Completions
{
    public static IEnumerable<CompletionResult> Safely(Func<IEnumerable<string>> names)
    {
        try
        {
            return names().Select(n => new CompletionResult(Quote(n), n, CompletionResultType.ParameterValue, n)).ToList();
        }
        catch
        {
            // A completer that throws breaks the user's typing; no suggestions is the right failure.
            return [];
        }
    }

    /// <summary>The root the command line names so far: -Root and -ModuleDirectory as typed.</summary>
    public static SystemRoot RootOf(IDictionary bound) =>
        new(bound["Root"] as string ?? "/", bound["ModuleDirectory"] as string);

    /// <summary>Quotes a value that PowerShell would otherwise split or expand (spaces, $, ;, quotes ...).</summary>
    private static string Quote(string value) =>
        value.IndexOfAny([' ', '$', ';', '\'', '"', '`', '(', ')', '{', '}', '@', '#', ',', '&', '|', '<', '>']) < 0 ? value : "'" + value.Replace("'", "''") + "'";
}
