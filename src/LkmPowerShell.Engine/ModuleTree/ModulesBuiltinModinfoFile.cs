using System.Text;

namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>One modinfo field of a built-in module: <c>ext4.alias=fs-ext4</c>.</summary>
public sealed record BuiltinModinfoField(string Module, string Key, string Value)
{
    public override string ToString() => $"{Module}.{Key}={Value}";
}

/// <summary>
/// Reads modules.builtin.modinfo, the kernel build's copy of the .modinfo sections of built-in
/// modules: NUL-terminated <c>module.key=value</c> records.
/// </summary>
internal static class ModulesBuiltinModinfoFile
{
    public const string FileName = "modules.builtin.modinfo";

    public static IReadOnlyList<BuiltinModinfoField> Read(string path, SystemRoot? within = null) => Parse(path, Files.SafeFile.ReadAll(path, Files.FileLimits.TreeTextFile, within));

    internal static IReadOnlyList<BuiltinModinfoField> Parse(string path, byte[] bytes)
    {
        var result = new List<BuiltinModinfoField>();
        var start = 0;
        while (start < bytes.Length)
        {
            var nul = Array.IndexOf(bytes, (byte)0, start);
            var end = nul < 0 ? bytes.Length : nul;
            if (end > start)
            {
                var record = Encoding.UTF8.GetString(bytes, start, end - start);
                var dot = record.IndexOf('.');
                var equals = record.IndexOf('=');
                if (dot <= 0 || equals < dot + 2)
                    throw new ModuleFormatException(path, start, $"'{(record.Length <= 80 ? record : record[..77] + "...")}' is not a \"module.key=value\" record");
                result.Add(new BuiltinModinfoField(record[..dot], record[(dot + 1)..equals], record[(equals + 1)..]));
            }
            start = end + 1;
        }
        return result;
    }
}
