using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// What each module file yielded last time, keyed by its path and <see cref="FileIdentity"/>, so a
/// rebuild reads (and decompresses) only the modules that changed. It lives in
/// /var/cache/lkmpowershell/depmod/&lt;version&gt;/ of the tree written to (the host's, the -Root
/// image's or the output root's), never in /lib/modules/&lt;version&gt;: that folder belongs to the
/// kernel package, whose removal must be able to delete it, and to depmod's files alone.
/// </summary>
/// <remarks>
/// Layout: a small index (path, <see cref="FileIdentity"/>, digest and place of each module's facts)
/// with a SHA-256 of its own, then the facts of each module, encoded by <see cref="ModuleFactsBlob"/>.
/// Loading reads the index only; a module's facts are decoded when they are needed, after their
/// SHA-256 is checked against the index, so a run whose outputs turn out unchanged (see
/// <see cref="DepmodOutputRecord"/>) decodes none, and a damaged entry costs one module, not the
/// run. A damaged index is ignored as a whole; a format or engine change bumps
/// <see cref="FormatVersion"/>. An entry is used only when device, inode, size, mtime and ctime
/// all match, and unreadable modules are never cached, so a transient read error is retried. The
/// cache is written after the index files, through a temporary file and a rename, without fsync:
/// a cache lost or torn by a crash is detected and only costs a full read.
/// </remarks>
internal sealed class DepmodCache
{
    public const string FileName = "modules.lkmpowershell.cache";

    /// <summary>The cache folder as a system path, under the tree written to.</summary>
    public const string SystemDirectory = "/var/cache/lkmpowershell/depmod";

    /// <summary>
    /// Where the cache of <paramref name="kernelVersion"/> lives: under the output root when there
    /// is one, else under the root (the host's /var/cache for "/"). Null when a folder on the way
    /// inside an image is a symbolic link: following it could write on the host, and a cache is
    /// not worth that risk.
    /// </summary>
    public static string? PathFor(SystemRoot root, string? outputRoot, string kernelVersion)
    {
        var tree = outputRoot is null ? root : new SystemRoot(outputRoot);
        var path = tree.Resolve($"{SystemDirectory}/{kernelVersion}/{FileName}");
        if (tree.IsHost)
            return path;
        var folder = tree.Path;
        foreach (var part in $"{SystemDirectory}/{kernelVersion}".Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            folder = System.IO.Path.Join(folder, part);
            var info = new DirectoryInfo(folder);
            if (info.LinkTarget is not null || (!info.Exists && File.Exists(folder)))
                return null;
        }
        return path;
    }
    private const uint FormatVersion = 2;
    private static readonly byte[] Magic = "LKMDEPC\n"u8.ToArray();
    private const int DigestLength = 32;

    private readonly Dictionary<string, (FileIdentity Identity, ModuleFactsBlob Facts)> _entries;

    private DepmodCache(Dictionary<string, (FileIdentity, ModuleFactsBlob)> entries) => _entries = entries;

    public int Count => _entries.Count;

    /// <summary>The cached facts of <paramref name="module"/>, when the file is the very one they were read from.</summary>
    public ModuleFactsBlob? TryGet(ModuleCandidate module) =>
        module.Identity is { } id && _entries.TryGetValue(module.KmodPath, out var e) && e.Identity == id ? e.Facts : null;

    /// <summary>Reads the cache's index; null when it is missing, and null with a reason when it is damaged.</summary>
    public static DepmodCache? Load(string path, out string? problem)
    {
        problem = null;
        byte[] data;
        try
        {
            if (!File.Exists(path)) return null;
            data = Files.SafeFile.ReadAll(path, Files.FileLimits.DepmodCache);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return null;
        }
        try
        {
            // magic | version | index length | index | SHA-256 of all before it | facts
            var header = Magic.Length + 8;
            if (data.Length < header || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                throw new InvalidDataException("not a cache file");
            if (BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(Magic.Length)) != FormatVersion)
                return null; // another format: rebuilt, not an error
            var indexLength = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(Magic.Length + 4));
            if (indexLength < 0 || (long)header + indexLength + DigestLength > data.Length)
                throw new InvalidDataException("truncated");
            var checkedEnd = header + indexLength;
            if (!SHA256.HashData(data.AsSpan(0, checkedEnd)).AsSpan().SequenceEqual(data.AsSpan(checkedEnd, DigestLength)))
                throw new InvalidDataException("checksum mismatch");
            var factsStart = checkedEnd + DigestLength;
            var factsLength = data.Length - factsStart;
            using var reader = new BinaryReader(new MemoryStream(data, header, indexLength), Encoding.UTF8);
            var count = reader.ReadInt32();
            if (count < 0 || count > indexLength)
                throw new InvalidDataException("bad count");
            var entries = new Dictionary<string, (FileIdentity, ModuleFactsBlob)>(count, StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var id = new FileIdentity(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadInt64(), reader.ReadInt64(),
                    reader.ReadUInt32(), reader.ReadInt64(), reader.ReadUInt32(), reader.ReadUInt32());
                var digest = reader.ReadBytes(DigestLength);
                var offset = reader.ReadInt32();
                var length = reader.ReadInt32();
                if (digest.Length != DigestLength || offset < 0 || length < 0 || (long)offset + length > factsLength)
                    throw new InvalidDataException("bad entry");
                entries[key] = (id, new ModuleFactsBlob(data.AsMemory(factsStart + offset, length), digest));
            }
            if (reader.BaseStream.Position != reader.BaseStream.Length)
                throw new InvalidDataException("trailing bytes");
            return new DepmodCache(entries);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or ArgumentException or FormatException)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>
    /// The cache file's bytes for these modules: each readable module with an identity, with the
    /// encoded facts it was read or loaded with (copied as they are, never encoded again).
    /// </summary>
    public static byte[] Serialize(IReadOnlyList<ModuleCandidate> modules, IReadOnlyList<ModuleFactsBlob> facts, IReadOnlyList<bool> readable)
    {
        var keep = new List<int>(modules.Count);
        for (var i = 0; i < modules.Count; i++)
            if (modules[i].Identity is not null && readable[i])
                keep.Add(i);
        var index = new MemoryStream();
        long factsLength = 0;
        using (var w = new BinaryWriter(index, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(keep.Count);
            foreach (var i in keep)
            {
                var id = modules[i].Identity!.Value;
                w.Write(modules[i].KmodPath);
                w.Write(id.Device); w.Write(id.Inode); w.Write(id.Size); w.Write(id.MtimeSeconds);
                w.Write(id.MtimeNanoseconds); w.Write(id.CtimeSeconds); w.Write(id.CtimeNanoseconds); w.Write(id.Mode);
                w.Write(facts[i].Digest);
                w.Write(checked((int)factsLength));
                w.Write(facts[i].Bytes.Length);
                factsLength += facts[i].Bytes.Length;
            }
        }
        var indexLength = (int)index.Length;
        var header = Magic.Length + 8;
        var output = new byte[checked(header + indexLength + DigestLength + (int)factsLength)];
        Magic.CopyTo(output, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(Magic.Length), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(output.AsSpan(Magic.Length + 4), indexLength);
        index.GetBuffer().AsSpan(0, indexLength).CopyTo(output.AsSpan(header));
        SHA256.HashData(output.AsSpan(0, header + indexLength), output.AsSpan(header + indexLength, DigestLength));
        var at = header + indexLength + DigestLength;
        foreach (var i in keep)
        {
            facts[i].Bytes.Span.CopyTo(output.AsSpan(at));
            at += facts[i].Bytes.Length;
        }
        return output;
    }
}
