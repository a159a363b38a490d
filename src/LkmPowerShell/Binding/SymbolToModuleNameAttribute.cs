using System.Collections;
using System.Management.Automation;

namespace LkmPowerShell;

/// <summary>
/// Lets a symbol from Find-KernelSymbol stand for the module that provides it, on every -Name that
/// takes module names from the pipeline.
/// </summary>
/// <remarks>
/// Why a transformation and not an alias: PowerShell's binder reads a property named like the
/// parameter before it tries the parameter's aliases (CmdletParameterBinderController.
/// BindValueFromPipelineByPropertyName), so a symbol's own Name (the symbol) would win over its
/// ModuleName. The binder's first stage, though, offers the whole piped object to each
/// ValueFromPipeline parameter and runs its transformation attributes before checking the type
/// (ParameterBinderBase.BindParameter): here a symbol, live or deserialised, is recognised by its
/// type name (not by which properties it happens to have) and becomes its ModuleName, before
/// binding by property name is ever tried. Everything else passes through unchanged.
/// </remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SymbolToModuleNameAttribute : ArgumentTransformationAttribute
{
    private const string SymbolType = "LkmPowerShell.KernelSymbol";
    private const string DeserializedSymbolType = "Deserialized." + SymbolType;

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        // One name, as a string: the binder wraps it for string[] as it does a piped string.
        if (IsSymbol(inputData, out var symbolName, out var moduleName))
            return RemoteOrigin.OtherComputer(inputData) is { } computer ? RemoteOrigin.Mark(ModuleOf(symbolName, moduleName), computer) : ModuleOf(symbolName, moduleName);
        // A module object from another machine: its name, as binding by property name would give
        // it, marked so the cmdlet can say it acts on this machine's module (RemoteOrigin).
        if (RemoteOrigin.NameFromOtherComputer(inputData) is { } remoteName)
            return remoteName;
        // On the command line: -Name (Find-KernelSymbol ...) gives an array; map its symbols, keep the rest.
        var items = inputData is PSObject { BaseObject: IList } pso ? (IList)pso.BaseObject : inputData as object[];
        if (items is null || !items.Cast<object?>().Any(i => IsSymbol(i, out _, out _)))
            return inputData;
        return items.Cast<object?>().Select(i => IsSymbol(i, out var s, out var m) ? ModuleOf(s, m) : i).ToArray();
    }

    private static string ModuleOf(string symbolName, string? moduleName) =>
        string.IsNullOrEmpty(moduleName)
            ? throw new SymbolWithoutModuleException(symbolName)
            : moduleName;

    /// <summary>A KernelSymbol, or its bag after remoting or Import-Clixml (type name Deserialized.LkmPowerShell.KernelSymbol).</summary>
    internal static bool IsSymbol(object? input, out string symbolName, out string? moduleName)
    {
        symbolName = "";
        moduleName = null;
        switch (input is PSObject p && p.BaseObject is KernelSymbol ? p.BaseObject : input)
        {
            case KernelSymbol live:
                symbolName = live.Name;
                moduleName = live.ModuleName;
                return true;
            case PSObject bag when bag.TypeNames.Contains(DeserializedSymbolType):
                symbolName = bag.Properties["Name"]?.Value?.ToString() ?? "";
                moduleName = (bag.Properties["ModuleName"] ?? bag.Properties["Module"])?.Value?.ToString();
                return true;
            default:
                return false;
        }
    }
}

/// <summary>A symbol the kernel image itself exports (or that nothing provides) names no module to act on.</summary>
public sealed class SymbolWithoutModuleException(string symbol) : ArgumentException(
    $"Symbol '{symbol}' is not provided by a module (the kernel image itself exports it, or nothing does), so it names no module to act on; this input was skipped. Filter such symbols out first: Where-Object ModuleName.")
{
    public string Symbol { get; } = symbol;
}
