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
        // Each module's place: the last line that names it. Lines are looked up as spans of the
        // file's text, so no string is made per line.
        var byPath = new Dictionary<string, int>(hashOrder.Count, StringComparer.Ordinal);
        for (var m = 0; m < hashOrder.Count; m++)
            if (hashOrder[m].UncompressedRelativePath is { } key)
                byPath.TryAdd(key, m);
        var lookup = byPath.GetAlternateLookup<ReadOnlySpan<char>>();
        var lineOf = new int[hashOrder.Count];
        Array.Fill(lineOf, -1);
        var lineCount = 0;
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0 || end - start + 1 > LineMax - 1)
            {
                warn(new DepmodWarning(DepmodWarningKind.InputFile, path, null, $"{path}:{lineCount + 1} corrupted line misses '\\n'"));
                return hashOrder;
            }
            var line = text.AsSpan(start, end - start);
            var nul = line.IndexOf('\0'); // strlen stops there
            if (nul >= 0) line = line[..nul];
            if (lookup.TryGetValue(line, out var m))
                lineOf[m] = lineCount;
            lineCount++;
            start = end + 1;
        }
        // A stable sort by line (modules no line names last, in hash order): each line names at
        // most one module, so the named ones drop into their line's slot.
        var byLine = new int[lineCount];
        Array.Fill(byLine, -1);
        for (var m = 0; m < lineOf.Length; m++)
            if (lineOf[m] >= 0)
                byLine[lineOf[m]] = m;
        var sorted = new List<ModuleCandidate>(hashOrder.Count);
        foreach (var m in byLine)
            if (m >= 0)
                sorted.Add(hashOrder[m]);
        for (var m = 0; m < lineOf.Length; m++)
            if (lineOf[m] < 0)
                sorted.Add(hashOrder[m]);
        return sorted;
    }
}
