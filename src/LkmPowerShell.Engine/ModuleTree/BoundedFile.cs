using System.Text;
using LkmPowerShell.Engine.Files;

namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// Reads a module-tree file whole, through <see cref="SafeFile"/> (never blocking, regular files
/// only, a size limit per kind, contained in the root), and splits text files into lines with a
/// length cap. Files are read into memory rather than mapped: a file truncated under a mapping
/// kills the process (SIGBUS), and these files are small (the largest on Debian is ~1.4 MB).
/// </summary>
internal static class BoundedFile
{
    /// <summary>modules.dep's longest line on Debian is about 1,000 bytes.</summary>
    public const int MaxLineBytes = 64 * 1024;

    /// <summary>The text file's lines (without "\n"), each with its byte offset, UTF-8 decoded.</summary>
    public static IEnumerable<TextLine> ReadLines(string path, SystemRoot? within = null)
    {
        var bytes = SafeFile.ReadAll(path, FileLimits.TreeTextFile, within);
        return SplitLines(path, bytes);
    }

    public static IEnumerable<TextLine> SplitLines(string path, byte[] bytes)
    {
        var start = 0;
        var number = 0;
        while (start < bytes.Length)
        {
            var length = Array.IndexOf(bytes, (byte)'\n', start) is var nl and >= 0 ? nl - start : bytes.Length - start;
            number++;
            if (length > MaxLineBytes)
                throw new ModuleFormatException(path, start, $"line {number} is longer than {MaxLineBytes:N0} bytes; this is not a file depmod wrote");
            var end = start + length;
            if (length > 0 && bytes[end - 1] == '\r') length--;
            yield return new TextLine(number, start, Encoding.UTF8.GetString(bytes, start, length));
            start = end + 1;
        }
    }
}

/// <summary>One line of a text file: 1-based number, byte offset, text.</summary>
internal readonly record struct TextLine(int Number, long Offset, string Text);
