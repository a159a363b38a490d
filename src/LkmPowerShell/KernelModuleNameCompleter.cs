using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace LkmPowerShell;

/// <summary>Tab completion for module names: loaded modules first, then installed ones. Never throws.</summary>
public sealed class KernelModuleNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            return KernelModuleNames.Complete(wordToComplete, fakeBoundParameters)
                .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n)).ToList();
        }
        catch
        {
            // A completer that throws breaks the user's typing; no suggestions is the right failure.
            return [];
        }
    }
}
