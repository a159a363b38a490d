using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Completion;

/// <summary>Tab completion for -Parameter: the parameters the module named by -Name shows in /sys/module. Never throws.</summary>
public sealed class KernelModuleParameterCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            if (fakeBoundParameters["Name"] is not string module)
                return [];
            var root = Completions.RootOf(fakeBoundParameters);
            var prefix = wordToComplete.Trim('\'', '"');
            return new SysModuleReader(root).ReadParameters(module)
                .Where(p => p.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(p => new CompletionResult(p.Name, p.Name, CompletionResultType.ParameterValue, $"{p.Name} = {p.Value ?? "(not readable)"}"))
                .ToList();
        }
        catch
        {
            // A completer that throws breaks the user's typing; no suggestions is the right failure.
            return [];
        }
    }
}
