using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Completion;

/// <summary>Completes -KernelVersion with the kernels that have modules installed under -Root (/lib/modules/*). Never throws.</summary>
public sealed class KernelVersionCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() =>
        {
            var root = Completions.RootOf(fakeBoundParameters);
            var word = wordToComplete.Trim('\'', '"');
            return ModuleDirectory.InstalledKernelVersions(root).Where(v => v.StartsWith(word, StringComparison.Ordinal));
        });
}
