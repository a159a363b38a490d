namespace LkmPowerShell.Engine;

/// <summary>
/// The one exception type for a module file (or index file) that cannot be read as what it
/// claims to be: truncated, corrupt, hostile, or simply not a kernel module. It names the file,
/// the byte offset where reading went wrong (when there is one) and what is wrong.
/// </summary>
public sealed class ModuleFormatException : Exception
{
    public ModuleFormatException(string path, long offset, string problem, Exception? inner = null)
        : base(Format(path, offset, problem), inner)
    {
        FilePath = path;
        Offset = offset;
        Problem = problem;
    }

    public string FilePath { get; }

    /// <summary>Byte offset in the (decompressed) file, or -1 when the problem has no position.</summary>
    public long Offset { get; }

    public string Problem { get; }

    private static string Format(string path, long offset, string problem) =>
        offset >= 0 ? $"{path}: {problem} (at byte offset {offset})." : $"{path}: {problem}.";
}
