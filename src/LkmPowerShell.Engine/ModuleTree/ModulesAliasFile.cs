namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>An alias pattern from modules.alias: <c>alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e</c>.</summary>
/// <param name="Pattern">The alias as the module declares it (an fnmatch pattern), not normalised.</param>
/// <param name="Module">The module's name.</param>
public sealed record ModuleAlias(string Pattern, string Module)
{
    public override string ToString() => $"{Pattern} {Module}";
}

/// <summary>Reads modules.alias (and, through it, modules.symbols): lines <c>alias PATTERN MODULE</c>.</summary>
internal static class ModulesAliasFile
{
    public const string FileName = "modules.alias";

    public static IReadOnlyList<ModuleAlias> Read(string path, SystemRoot? within = null) => [.. ReadAliasLines(path, within)];

    internal static IEnumerable<ModuleAlias> ReadAliasLines(string path, SystemRoot? within = null)
    {
        foreach (var line in BoundedFile.ReadLines(path, within))
        {
            var fields = line.Text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0].StartsWith('#')) continue;
            if (fields.Length != 3 || fields[0] != "alias")
                throw new ModuleFormatException(path, line.Offset, $"line {line.Number} is not \"alias PATTERN MODULE\"");
            yield return new ModuleAlias(fields[1], fields[2]);
        }
    }
}
