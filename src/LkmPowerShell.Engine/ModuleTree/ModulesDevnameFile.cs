namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// A device node that loads a module on first open (modules.devname, from the module's
/// <c>devname:</c> and <c>char-major-</c>/<c>block-major-</c> aliases): <c>fuse fuse c10:229</c>.
/// </summary>
public sealed record ModuleDeviceNode(string Module, string DeviceName, char Type, int Major, int Minor)
{
    public override string ToString() => $"{Module} {DeviceName} {Type}{Major}:{Minor}";
}

/// <summary>Reads modules.devname.</summary>
internal static class ModulesDevnameFile
{
    public const string FileName = "modules.devname";

    public static IReadOnlyList<ModuleDeviceNode> Read(string path, SystemRoot? within = null)
    {
        var result = new List<ModuleDeviceNode>();
        foreach (var line in BoundedFile.ReadLines(path, within))
        {
            var fields = line.Text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0].StartsWith('#')) continue;
            if (fields.Length != 3 || !TryParseDevice(fields[2], out var type, out var major, out var minor))
                throw new ModuleFormatException(path, line.Offset, $"line {line.Number} is not \"MODULE DEVNAME c|bMAJOR:MINOR\"");
            result.Add(new ModuleDeviceNode(fields[0], fields[1], type, major, minor));
        }
        return result;
    }

    private static bool TryParseDevice(string text, out char type, out int major, out int minor)
    {
        type = text.Length > 0 ? text[0] : '\0';
        major = minor = 0;
        var colon = text.IndexOf(':');
        return type is 'c' or 'b' && colon > 1
            && int.TryParse(text.AsSpan(1, colon - 1), System.Globalization.NumberStyles.None, null, out major)
            && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, null, out minor);
    }
}
