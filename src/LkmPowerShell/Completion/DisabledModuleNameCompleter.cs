using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Configuration;

namespace LkmPowerShell.Completion;

/// <summary>Tab completion for Enable-KernelModule -Name: the modules LkmPowerShell's file disables, under -Root. Never throws.</summary>
public sealed class DisabledModuleNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var root = Completions.RootOf(fakeBoundParameters);
            var prefix = ModuleName.Normalize(wordToComplete.Trim('\'', '"'));
            return new ModuleDisabler(root).DisabledModules()
                .Where(m => m.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(m => new CompletionResult(m, m, CompletionResultType.ParameterValue, m))
                .ToList();
        }
        catch
        {
            // A completer that throws breaks the user's typing; no suggestions is the right failure.
            return [];
        }
    }
}
