using System.Text.RegularExpressions;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell.Engine.Initramfs;

/// <summary>One archive of an initramfs: where it starts in the file, its compression, and how many entries it has.</summary>
public sealed record InitramfsSegment(long Offset, ModuleCompression Compression, int Entries)
{
    public override string ToString() => $"{(Compression == ModuleCompression.None ? "uncompressed" : Compression.ToString().ToLowerInvariant())} at {Offset:N0}: {Entries:N0} entries";
}

/// <summary>A module file the initramfs carries: its name, path inside the archive, the kernel whose tree it sits in, and its bytes.</summary>
public sealed record InitramfsModule(string Name, string ArchivePath, string KernelVersion, ReadOnlyMemory<byte> Data)
{
    /// <summary>The path below /lib/modules/&lt;version&gt;/, as modules.dep names it (kernel/fs/fat/fat.ko).</summary>
    public string TreePath => ArchivePath[(ArchivePath.IndexOf("/modules/", StringComparison.Ordinal) + "/modules/".Length + KernelVersion.Length + 1)..];
}

/// <summary>A configuration file the initramfs carries (modprobe.d, modules-load.d, initramfs-tools' conf/modules) and its text.</summary>
public sealed record InitramfsConfigFile(string ArchivePath, string Text);

/// <summary>
/// An initramfs read whole into memory and parsed as the kernel unpacks it: concatenated cpio
/// newc archives, each plain or compressed (gzip, xz, zstd, decompressed with the engine's
/// decompressors and bounded), with NUL padding between them. Debian's initramfs-tools writes an
/// uncompressed early part (CPU microcode) and then the compressed main archive. Nothing is
/// written anywhere; names are only compared, never resolved against a folder.
/// </summary>
public sealed partial class InitramfsImage
{
    /// <summary>The initramfs file itself (Debian's are tens of MB).</summary>
    public static readonly FileLimit File = new("an initramfs", 1L << 30);

    /// <summary>All archives decompressed together are refused past this.</summary>
    public const long MaxDecompressedBytes = 1L << 30;

    private InitramfsImage(string path, IReadOnlyList<InitramfsSegment> segments, IReadOnlyList<CpioEntry> entries)
    {
        Path = path;
        Segments = segments;
        Entries = entries;
        Modules = [.. FindModules(entries)];
        ModprobeFiles = [.. Config(entries, ModprobeDirectory())];
        ModulesLoadFiles = [.. Config(entries, ModulesLoadDirectory())];
        Unsafe = [.. entries.Where(e => e.Path is null)];
    }

    public string Path { get; }
    public IReadOnlyList<InitramfsSegment> Segments { get; }
    public IReadOnlyList<CpioEntry> Entries { get; }

    /// <summary>Module files under (usr/)lib/modules/&lt;version&gt;/ (hard links resolved to the copy that holds the data).</summary>
    public IReadOnlyList<InitramfsModule> Modules { get; }

    /// <summary>modprobe.d files (etc, lib, usr/lib, run), in the order modprobe reads them.</summary>
    public IReadOnlyList<InitramfsConfigFile> ModprobeFiles { get; }

    /// <summary>Lists of modules loaded at boot: modules-load.d, /etc/modules, and initramfs-tools' conf/modules.</summary>
    public IReadOnlyList<InitramfsConfigFile> ModulesLoadFiles { get; }

    /// <summary>Entries whose names could leave the initramfs root ("..", empty): hostile or broken archives.</summary>
    public IReadOnlyList<CpioEntry> Unsafe { get; }

    /// <summary>/boot/initrd.img-<paramref name="kernelVersion"/> under the root.</summary>
    public static string PathFor(SystemRoot root, string kernelVersion) => root.Resolve("/boot/initrd.img-" + kernelVersion);

    /// <summary>Reads and parses an initramfs file (inside <paramref name="within"/> when given).</summary>
    public static InitramfsImage Read(string path, SystemRoot? within = null)
    {
        var bytes = SafeFile.ReadAll(path, File, within);
        return Parse(bytes, path);
    }

    /// <summary>Parses an initramfs in memory.</summary>
    /// <exception cref="ModuleFormatException">A damaged, truncated, oversized or unknown archive.</exception>
    public static InitramfsImage Parse(byte[] bytes, string path) => Parse(bytes, path, MaxDecompressedBytes);

    /// <summary>Parses with another bound on the decompressed archives (tests use a small one).</summary>
    internal static InitramfsImage Parse(byte[] bytes, string path, long maxDecompressedBytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var segments = new List<InitramfsSegment>();
        var entries = new List<CpioEntry>();
        long decompressed = 0;
        var at = 0;
        while (true)
        {
            at = CpioReader.SkipZeros(bytes, at);
            if (at >= bytes.Length)
                break;
            var before = entries.Count;
            if (CpioReader.IsArchive(bytes.AsSpan(at)))
            {
                var start = at;
                at = CpioReader.Read(bytes, at, path, entries);
                segments.Add(new InitramfsSegment(start, ModuleCompression.None, entries.Count - before));
                if (at < bytes.Length && CpioReader.SkipZeros(bytes, at) == at && !IsCompressed(bytes.AsSpan(at)))
                    throw new ModuleFormatException(path, at, "after a cpio archive comes neither another archive nor compressed data");
                continue;
            }
            var kind = ModuleDecompressor.Detect(bytes.AsSpan(at));
            if (kind == ModuleCompression.None)
                throw new ModuleFormatException(path, at,
                    $"the initramfs holds data that is neither a cpio archive nor gzip, xz or zstd (magic {Convert.ToHexString(bytes.AsSpan(at, Math.Min(4, bytes.Length - at)))}; lz4, lzo, bzip2 and lzma are not read)");
            // The compressed archive runs to the end of the file, as initramfs-tools and dracut write it.
            var output = Decompress(bytes.AsSpan(at), kind, path, maxDecompressedBytes - decompressed);
            decompressed += output.Length;
            var end = CpioReader.Read(output, 0, path, entries);
            if (end < output.Length)
                throw new ModuleFormatException(path, at, $"the {kind.ToString().ToLowerInvariant()} data at {at:N0} decompresses to something other than cpio archives (at its byte {end:N0})");
            segments.Add(new InitramfsSegment(at, kind, entries.Count - before));
            break;
        }
        if (segments.Count == 0)
            throw new ModuleFormatException(path, 0, "the file holds no cpio archive");
        return new InitramfsImage(path, segments, entries);
    }

    private static bool IsCompressed(ReadOnlySpan<byte> data) => ModuleDecompressor.Detect(data) != ModuleCompression.None;

    /// <summary>Decompresses to the end of the data; trailing NUL padding (some tools add it) is dropped if the whole fails.</summary>
    private static byte[] Decompress(ReadOnlySpan<byte> data, ModuleCompression kind, string path, long limit)
    {
        try
        {
            return ModuleDecompressor.Decompress(data, kind, path, limit);
        }
        catch (ModuleFormatException) when (data[^1] == 0 && data.LastIndexOfAnyExcept((byte)0) is var last and > 0)
        {
            return ModuleDecompressor.Decompress(data[..(last + 1)], kind, path, limit);
        }
    }

    [GeneratedRegex(@"^(?:usr/)?lib/modules/(?<version>[^/]+)/(?:.+/)?(?<file>[^/]+\.ko(?:\.(?:xz|zst|gz))?)$")]
    private static partial Regex ModulePath();

    [GeneratedRegex(@"^(?:etc|run|lib|usr/lib|usr/local/lib)/modprobe\.d/[^/]+\.conf$")]
    private static partial Regex ModprobeDirectory();

    [GeneratedRegex(@"^(?:(?:etc|run|lib|usr/lib|usr/local/lib)/modules-load\.d/[^/]+\.conf|etc/modules|conf/modules)$")]
    private static partial Regex ModulesLoadDirectory();

    private static IEnumerable<InitramfsModule> FindModules(IReadOnlyList<CpioEntry> entries)
    {
        // newc stores a hard-linked file's data with its last link: the others have none.
        var withData = new Dictionary<(uint, uint, uint), CpioEntry>();
        foreach (var e in entries)
            if (e.IsRegularFile && e.Links > 1 && e.Data.Length > 0)
                withData[(e.Inode, e.DeviceMajor, e.DeviceMinor)] = e;
        foreach (var e in entries)
        {
            if (!e.IsRegularFile || e.Path is null || ModulePath().Match(e.Path) is not { Success: true } m)
                continue;
            var data = e.Data.Length == 0 && e.Links > 1 && withData.TryGetValue((e.Inode, e.DeviceMajor, e.DeviceMinor), out var linked) ? linked.Data : e.Data;
            yield return new InitramfsModule(ModuleName.FromPath(m.Groups["file"].Value), e.Path, m.Groups["version"].Value, data);
        }
    }

    private static IEnumerable<InitramfsConfigFile> Config(IReadOnlyList<CpioEntry> entries, Regex pattern) =>
        entries.Where(e => e.IsRegularFile && e.Path is not null && pattern.IsMatch(e.Path))
            .OrderBy(e => System.IO.Path.GetFileName(e.Path), StringComparer.Ordinal)
            .Select(e => new InitramfsConfigFile(e.Path!, System.Text.Encoding.UTF8.GetString(e.Data.Span)));
}
