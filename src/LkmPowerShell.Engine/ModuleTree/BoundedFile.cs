using System.Text;

namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// Reads a module-tree file whole, with a size cap, and splits text files into lines with a
/// length cap. Files are read into memory rather than mapped: a file truncated under a mapping
/// kills the process (SIGBUS), and these files are small (the largest on Debian is ~1.4 MB).
/// </summary>
internal static class BoundedFile
{
    /// <summary>Far above any real index (Debian's largest is 1.4 MB), far below a memory problem.</summary>
    public const int MaxFileBytes = 256 * 1024 * 1024;

    /// <summary>modules.dep's longest line on Debian is about 1,000 bytes.</summary>
    public const int MaxLineBytes = 64 * 1024;

    public static byte[] ReadAll(string path, int maxBytes = MaxFileBytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
            bufferSize: 1, FileOptions.SequentialScan);
        var length = stream.Length;
        if (length > maxBytes)
            throw new ModuleFormatException(path, -1, $"the file is {length:N0} bytes, more than the {maxBytes:N0} this reader accepts");
        // The file may change while we read it (depmod renames a new one into place, but a
        // careless writer may truncate): read what is there, never more than the size seen.
        var buffer = new byte[length];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0) break;
            read += n;
        }
        return read == buffer.Length ? buffer : buffer[..read];
    }

    /// <summary>The file's lines (without "\n"), each with its byte offset, UTF-8 decoded.</summary>
    public static IEnumerable<TextLine> ReadLines(string path)
    {
        var bytes = ReadAll(path);
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
