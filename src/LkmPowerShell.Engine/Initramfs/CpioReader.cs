using System.Globalization;
using System.Text;

namespace LkmPowerShell.Engine.Initramfs;

/// <summary>
/// Reads cpio "newc" archives (magic 070701, or 070702 with checksums) from memory, as the
/// kernel's initramfs unpacker does (init/initramfs.c): a 110-byte header of hex fields, the name
/// and the data each padded to 4 bytes, "TRAILER!!!" ending an archive; NUL bytes between
/// archives are skipped. Everything is bounded by the bytes given: a size that runs past them is a
/// truncated archive, never an allocation. Entries refer to slices of the input.
/// </summary>
internal static class CpioReader
{
    private const int HeaderLength = 110;
    private const int MaxNameLength = 4096; // PATH_MAX, as the kernel's unpacker bounds names
    public const int MaxEntries = 1_000_000;

    /// <summary>True when the bytes start a newc archive.</summary>
    public static bool IsArchive(ReadOnlySpan<byte> data) => data.StartsWith("070701"u8) || data.StartsWith("070702"u8);

    /// <summary>
    /// Reads the archives at <paramref name="offset"/> in <paramref name="data"/>, one after another
    /// (NUL padding between them skipped), until the bytes end or something that is not a newc
    /// archive starts. Returns where reading stopped.
    /// </summary>
    /// <exception cref="ModuleFormatException">A damaged or truncated archive.</exception>
    public static int Read(ReadOnlyMemory<byte> data, int offset, string path, List<CpioEntry> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        var span = data.Span;
        var at = offset;
        while (true)
        {
            at = SkipZeros(span, at);
            if (at >= span.Length || !IsArchive(span[at..]))
                return at;
            at = ReadOne(data, at, path, into);
        }
    }

    /// <summary>The first position at or after <paramref name="at"/> that is not a NUL byte.</summary>
    public static int SkipZeros(ReadOnlySpan<byte> span, int at)
    {
        var next = span[at..].IndexOfAnyExcept((byte)0);
        return next < 0 ? span.Length : at + next;
    }

    private static int ReadOne(ReadOnlyMemory<byte> data, int at, string path, List<CpioEntry> into)
    {
        var span = data.Span;
        while (true)
        {
            if (span.Length - at < HeaderLength)
                throw Truncated(path, at, "a header");
            var header = span.Slice(at, HeaderLength);
            if (!IsArchive(header))
                throw new ModuleFormatException(path, at, "a cpio header does not start with the newc magic 070701 (the archive is damaged)");
            var ino = Field(header, 0, path, at);
            var mode = Field(header, 1, path, at);
            var links = Field(header, 4, path, at);
            var fileSize = Field(header, 6, path, at);
            var major = Field(header, 7, path, at);
            var minor = Field(header, 8, path, at);
            var nameSize = Field(header, 11, path, at);
            if (nameSize == 0 || nameSize > MaxNameLength + 1)
                throw new ModuleFormatException(path, at, $"a cpio entry's name is {nameSize:N0} bytes long (1 to {MaxNameLength + 1:N0} allowed)");
            var nameStart = at + HeaderLength;
            if (span.Length - nameStart < nameSize)
                throw Truncated(path, at, "a name");
            var rawName = span.Slice(nameStart, (int)nameSize - 1); // without its NUL
            var dataStart = Align4(nameStart + (long)nameSize);
            if (dataStart > span.Length || span.Length - dataStart < fileSize)
                throw Truncated(path, at, $"the {fileSize:N0} bytes of {Encoding.UTF8.GetString(rawName)}");
            var name = Encoding.UTF8.GetString(rawName);
            if (name == "TRAILER!!!")
                return (int)Math.Min(Align4(dataStart + fileSize), span.Length);
            if (into.Count >= MaxEntries)
                throw new ModuleFormatException(path, at, $"the initramfs holds more than {MaxEntries:N0} entries");
            into.Add(new CpioEntry(name, Contain(name), mode, ino, links, major, minor, data.Slice((int)dataStart, (int)fileSize)));
            at = (int)Math.Min(Align4(dataStart + fileSize), span.Length);
        }
    }

    /// <summary>
    /// The name relative to the archive's root ("." for the root itself, which initramfs-tools
    /// stores as its first entry), or null when it could leave the root ("..") or names nothing.
    /// </summary>
    internal static string? Contain(string name)
    {
        if (name.Length == 0 || name.Contains('\0'))
            return null;
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Contains(".."))
            return null;
        return parts.Length == 0 ? "." : string.Join('/', parts);
    }

    private static long Align4(long value) => (value + 3) & ~3L;

    private static uint Field(ReadOnlySpan<byte> header, int index, string path, int at)
    {
        var text = header.Slice(6 + index * 8, 8);
        if (!uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
            throw new ModuleFormatException(path, at + 6 + index * 8, $"a cpio header field is not hexadecimal ('{Encoding.ASCII.GetString(text)}')");
        return value;
    }

    private static ModuleFormatException Truncated(string path, long at, string what) =>
        new(path, at, $"the cpio archive is truncated: {what} runs past the end of the data");
}
