using System.Text;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// kmod 30's depmod_modules_sort: modules named in modules.order come first, by the line that
/// names them (the last such line when a path is listed twice), the others after them in the
/// order they came (kmod's hash order; glibc's qsort is a stable merge sort here). Lines match the
/// module's path cut after its name plus ".ko". A line without its newline makes kmod call the
/// file corrupted and skip the sort altogether, and so does this.
/// </summary>
internal static class ModuleOrder
{
    private const int LineMax = 4096; // kmod reads with fgets into char[PATH_MAX]

    public static List<ModuleCandidate> Sort(List<ModuleCandidate> hashOrder, string modulesDirectory, Action<DepmodWarning> warn, SystemRoot? root = null)
    {
        var path = Path.Join(modulesDirectory, "modules.order");
        byte[] bytes;
        try
        {
            bytes = Files.SafeFile.ReadAll(path, Files.FileLimits.TreeTextFile, root?.Within(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn(new DepmodWarning(DepmodWarningKind.InputFile, path, null, $"could not open modules.order at {modulesDirectory}: {e.Message}"));
            return hashOrder;
        }
        var text = Encoding.Latin1.GetString(bytes);
        var lines = new List<string>();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0 || end - start + 1 > LineMax - 1)
            {
                warn(new DepmodWarning(DepmodWarningKind.InputFile, path, null, $"{path}:{lines.Count + 1} corrupted line misses '\\n'"));
                return hashOrder;
            }
            lines.Add(text[start..end]);
            start = end + 1;
        }
        var total = lines.Count + 1;
        var byPath = new Dictionary<string, ModuleCandidate>(StringComparer.Ordinal);
        foreach (var m in hashOrder)
            if (m.UncompressedRelativePath is { } key)
                byPath.TryAdd(key, m);
        var sortIndex = new Dictionary<ModuleCandidate, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            var nul = line.IndexOf('\0'); // strlen stops there
            if (nul >= 0) line = line[..nul];
            if (byPath.TryGetValue(line, out var m))
                sortIndex[m] = i + 1 - total;
        }
        // A stable sort: List.Sort is not, OrderBy is.
        return [.. hashOrder.OrderBy(m => sortIndex.TryGetValue(m, out var idx) ? idx : 1)];
    }
}
