namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>A symbol exported by an installed module, from modules.symbols.</summary>
public sealed record SymbolsFileEntry(string Symbol, string Module)
{
    public override string ToString() => $"{Symbol} {Module}";
}

/// <summary>
/// Reads modules.symbols: <c>alias symbol:NAME MODULE</c>, one line for each exported symbol
/// (when two modules export one, depmod keeps the later in modules.order).
/// </summary>
public static class ModulesSymbolsFile
{
    public const string FileName = "modules.symbols";

    /// <summary>The prefix depmod gives symbol keys, so that symbol_request() can go through modprobe.</summary>
    public const string KeyPrefix = "symbol:";

    public static IReadOnlyList<SymbolsFileEntry> Read(string path, SystemRoot? within = null)
    {
        var symbols = new List<SymbolsFileEntry>();
        foreach (var alias in ModulesAliasFile.ReadAliasLines(path, within))
        {
            if (!alias.Pattern.StartsWith(KeyPrefix, StringComparison.Ordinal))
                throw new ModuleFormatException(path, -1, $"'{alias.Pattern}' does not start with '{KeyPrefix}'");
            symbols.Add(new SymbolsFileEntry(alias.Pattern[KeyPrefix.Length..], alias.Module));
        }
        return symbols;
    }
}
