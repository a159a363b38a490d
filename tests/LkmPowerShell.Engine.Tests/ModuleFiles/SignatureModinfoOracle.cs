using System.Collections.Concurrent;
using System.Text;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>
/// kmod 30's modinfo as the oracle for signature fields. One `modinfo -0` process per batch of
/// files (it takes many; -0 gives NUL-separated key=value records, each module's starting with
/// its "filename:" line) is about 4 times faster than `modinfo -F field` once per field.
/// </summary>
internal static class SignatureModinfoOracle
{
    public sealed record Fields(string? SigId, string? Signer, string? SigKey, string? HashAlgorithm, string? Signature);

    private const int BatchSize = 300;

    /// <summary>The signature fields modinfo shows for each file (all null when it shows none).</summary>
    public static IReadOnlyDictionary<string, Fields> Read(IReadOnlyList<string> files)
    {
        var result = new ConcurrentDictionary<string, Fields>(StringComparer.Ordinal);
        var batches = files.Chunk(BatchSize).ToArray();
        Parallel.ForEach(batches, new ParallelOptions { MaxDegreeOfParallelism = 2 }, batch =>
        {
            var output = Encoding.UTF8.GetString(CodecTools.Run("modinfo", ["-0", .. batch]));
            foreach (var (file, fields) in Parse(output))
                result[file] = fields;
        });
        return result;
    }

    private static IEnumerable<(string File, Fields Fields)> Parse(string output)
    {
        string? file = null;
        var values = new Dictionary<string, string>();
        foreach (var record in output.Split('\0'))
        {
            if (record.StartsWith("filename:", StringComparison.Ordinal))
            {
                if (file is not null)
                    yield return (file, Make(values));
                file = record["filename:".Length..].TrimStart(' ');
                values.Clear();
                continue;
            }
            var eq = record.IndexOf('=');
            if (eq > 0)
                values[record[..eq]] = record[(eq + 1)..];
        }
        if (file is not null)
            yield return (file, Make(values));
    }

    private static Fields Make(Dictionary<string, string> v) =>
        new(v.GetValueOrDefault("sig_id"), v.GetValueOrDefault("signer"), v.GetValueOrDefault("sig_key"),
            v.GetValueOrDefault("sig_hashalgo"), v.GetValueOrDefault("signature"));
}
