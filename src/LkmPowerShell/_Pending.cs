// TEMPORARY until the kernel and module-tree readers land.
using System.Management.Automation;
using LkmPowerShell.Engine;
namespace LkmPowerShell;
public sealed class LoadedKernelModule { }
internal static class ModuleListing
{
    public static void WriteAvailable(PSCmdlet c, SystemRoot root, string? version, string[]? names) => throw new NotImplementedException();
    public static void WriteLoaded(PSCmdlet c, SystemRoot root, string[]? names, bool builtin) => throw new NotImplementedException();
}
public sealed class KernelModuleNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters) => [];
}
