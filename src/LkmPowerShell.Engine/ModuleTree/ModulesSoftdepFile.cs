namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// A module's soft dependencies, from its <c>softdep</c> modinfo as depmod copies it into
/// modules.softdep: <c>softdep ext4 pre: crypto-crc32c</c>. The names may be aliases.
/// </summary>
public sealed record ModuleSoftDependency(string Module, IReadOnlyList<string> Pre, IReadOnlyList<string> Post)
{
    public override string ToString() =>
        $"{Module}{(Pre.Count > 0 ? " pre: " + string.Join(' ', Pre) : "")}{(Post.Count > 0 ? " post: " + string.Join(' ', Post) : "")}";
}

/// <summary>Reads modules.softdep.</summary>
internal static class ModulesSoftdepFile
{
    public const string FileName = "modules.softdep";

    public static IReadOnlyList<ModuleSoftDependency> Read(string path, SystemRoot? within = null)
    {
        var result = new List<ModuleSoftDependency>();
        foreach (var line in BoundedFile.ReadLines(path, within))
        {
            var fields = line.Text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0].StartsWith('#')) continue;
            if (fields.Length < 2 || fields[0] != "softdep")
                throw new ModuleFormatException(path, line.Offset, $"line {line.Number} is not \"softdep MODULE pre: ... post: ...\"");
            result.Add(Parse(ModuleName.Normalize(fields[1]), fields.AsSpan(2)));
        }
        return result;
    }

    /// <summary>Each line's module and its value as the module declares it ("pre: a b post: c"), in file order.</summary>
    public static IReadOnlyList<(string Module, string Value)> ReadValues(string path, SystemRoot? within = null)
    {
        var result = new List<(string, string)>();
        foreach (var line in BoundedFile.ReadLines(path, within))
        {
            var fields = line.Text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0].StartsWith('#')) continue;
            if (fields.Length < 2 || fields[0] != "softdep")
                throw new ModuleFormatException(path, line.Offset, $"line {line.Number} is not \"softdep MODULE pre: ... post: ...\"");
            result.Add((ModuleName.Normalize(fields[1]), string.Join(' ', fields.AsSpan(2).ToArray())));
        }
        return result;
    }

    internal static ModuleSoftDependency Parse(string module, ReadOnlySpan<string> tokens)
    {
        var (pre, post) = Split(tokens);
        return new ModuleSoftDependency(module, pre, post);
    }

    /// <summary>
    /// Splits "pre: a b post: c" as kmod does, for modules.softdep and modprobe.d alike: names
    /// before any "pre:" or "post:" belong to neither list and are ignored.
    /// </summary>
    internal static (string[] Pre, string[] Post) Split(ReadOnlySpan<string> tokens)
    {
        var pre = new List<string>();
        var post = new List<string>();
        List<string>? current = null;
        foreach (var token in tokens)
        {
            if (token == "pre:") current = pre;
            else if (token == "post:") current = post;
            else current?.Add(token);
        }
        return ([.. pre], [.. post]);
    }
}
