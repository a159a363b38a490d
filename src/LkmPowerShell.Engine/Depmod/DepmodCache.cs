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
/// Layout: two files. The index (<see cref="FileName"/>: path, <see cref="FileIdentity"/>, SHA-256
/// and place of each module's facts, the identity of the facts file, and a SHA-256 of the whole
/// index) and the facts (<see cref="FactsFileName"/>: each module's facts encoded by
/// <see cref="ModuleFactsBlob"/>, one after the other). A run reads the index only; the facts file
/// is read when some module's facts are needed, and each module's bytes are checked against their
/// SHA-256 before they are decoded, so a run whose outputs turn out unchanged (see
/// <see cref="DepmodOutputRecord"/>) reads none, and a damaged entry costs one module, not the run.
/// Saving appends only the facts of modules read anew and rewrites the small index, so touching
/// one module does not rewrite megabytes. A damaged index, or one whose facts file was replaced,
/// is ignored as a whole; a format or engine change bumps <see cref="FormatVersion"/>. An entry is
/// used only when device, inode, size, mtime and ctime all match, and unreadable modules are never
/// cached, so a transient read error is retried. The cache is written after the index files,
/// without fsync: a cache lost or torn by a crash is detected and only costs a full read.
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
    /// <summary>The encoded facts, beside the index (see the remarks).</summary>
    public const string FactsFileName = "modules.lkmpowershell.facts";

    private const uint FormatVersion = 3;
    private static readonly byte[] Magic = "LKMDEPC\n"u8.ToArray();
    private const int DigestLength = 32;

    private readonly Dictionary<string, (FileIdentity Identity, ModuleFactsBlob Facts)> _entries = new(StringComparer.Ordinal);
    private readonly string _factsPath;
    private (ulong Device, ulong Inode) _factsFile;
    private long _liveBytes;
    private byte[]? _facts;
    private readonly Lock _factsLock = new();

    private DepmodCache(string factsPath) => _factsPath = factsPath;

    public int Count => _entries.Count;

    /// <summary>The cached facts of <paramref name="module"/>, when the file is the very one they were read from.</summary>
    public ModuleFactsBlob? TryGet(ModuleCandidate module) =>
        module.Identity is { } id && _entries.TryGetValue(module.KmodPath, out var e) && e.Identity == id ? e.Facts : null;

    /// <summary>
    /// Bytes of the facts file, read whole the first time any are asked for (a run that needs one
    /// module's facts from the cache needs them all). Bytes that are not there come back short,
    /// and then fail their digest: the module is read from its file instead.
    /// </summary>
    internal ReadOnlyMemory<byte> ReadFacts(long offset, int length)
    {
        lock (_factsLock)
        {
            if (_facts is null)
            {
                try
                {
                    _facts = NativeFile.Stat(_factsPath, followLinks: false) is { IsRegularFile: true } id && (id.Device, id.Inode) == _factsFile
                        ? Files.SafeFile.ReadAll(_factsPath, Files.FileLimits.DepmodCache, followLinks: false)
                        : [];
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _facts = [];
                }
            }
        }
        return offset + length <= _facts.Length ? _facts.AsMemory((int)offset, length) : ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>Reads the cache's index; null when it is missing, and null with a reason when it is damaged.</summary>
    public static DepmodCache? Load(string path, out string? problem)
    {
        problem = null;
        byte[] data;
        var factsPath = Path.Join(Path.GetDirectoryName(path), FactsFileName);
        try
        {
            if (!File.Exists(path)) return null;
            // Never through a link: the cache is the engine's own file, and a link there was planted.
            data = Files.SafeFile.ReadAll(path, Files.FileLimits.DepmodCache, followLinks: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return null;
        }
        try
        {
            // magic | version | facts file device, inode | count | entries | SHA-256 of all before it
            if (data.Length < Magic.Length + 4 + 20 + DigestLength || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                throw new InvalidDataException("not a cache file");
            if (BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(Magic.Length)) != FormatVersion)
                return null; // another format: rebuilt, not an error
            var body = data.Length - DigestLength;
            if (!SHA256.HashData(data.AsSpan(0, body)).AsSpan().SequenceEqual(data.AsSpan(body)))
                throw new InvalidDataException("checksum mismatch");
            var cache = new DepmodCache(factsPath);
            using var reader = new BinaryReader(new MemoryStream(data, Magic.Length + 4, body - Magic.Length - 4), Encoding.UTF8);
            cache._factsFile = (reader.ReadUInt64(), reader.ReadUInt64());
            if (NativeFile.Stat(factsPath, followLinks: false) is not { IsRegularFile: true } facts || (facts.Device, facts.Inode) != cache._factsFile)
                throw new InvalidDataException($"{FactsFileName} is missing or not the one this index was written with");
            var count = reader.ReadInt32();
            // Checked against the smallest entry (an empty key's length byte, the identity, digest,
            // offset and length), so memory reserved for the entries stays in proportion to the file.
            const int smallestEntry = 1 + 52 + DigestLength + 8 + 4;
            if (count < 0 || count > (reader.BaseStream.Length - reader.BaseStream.Position) / smallestEntry)
                throw new InvalidDataException("bad count");
            cache._entries.EnsureCapacity(count);
            for (var i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var id = new FileIdentity(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadInt64(), reader.ReadInt64(),
                    reader.ReadUInt32(), reader.ReadInt64(), reader.ReadUInt32(), reader.ReadUInt32());
                var digest = reader.ReadBytes(DigestLength);
                var offset = reader.ReadInt64();
                var length = reader.ReadInt32();
                // Found by attacking the cache: offset + length could overflow past a plain sum's check.
                if (digest.Length != DigestLength || offset < 0 || length < 0 || offset > facts.Size || length > facts.Size - offset)
                    throw new InvalidDataException("bad entry");
                cache._entries[key] = (id, new ModuleFactsBlob(cache, offset, length, digest));
                cache._liveBytes += length;
            }
            if (reader.BaseStream.Position != reader.BaseStream.Length)
                throw new InvalidDataException("trailing bytes");
            return cache;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or ArgumentException or FormatException)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>
    /// Writes the cache for these modules (each readable one with an identity): facts that came
    /// from <paramref name="previous"/> stay where they are in its facts file, and only new ones
    /// are appended to it; the facts file is written anew when there is none, when it is not the
    /// previous one, or when more than half of it is facts no longer used. Then the index, through
    /// a temporary file and a rename. Best effort, without fsync (see the remarks).
    /// </summary>
    /// <summary>
    /// Writes the cache into <paramref name="folder"/> (the cache folder, held open: every file is
    /// created, appended, renamed relative to it, never through a link).
    /// </summary>
    public static void Save(Files.ContainedFolder folder, IReadOnlyList<ModuleCandidate> modules, IReadOnlyList<ModuleFactsBlob> facts, IReadOnlyList<bool> readable, DepmodCache? previous)
    {
        var keep = new List<int>(modules.Count);
        long live = 0;
        for (var i = 0; i < modules.Count; i++)
            if (modules[i].Identity is not null && readable[i])
            {
                keep.Add(i);
                live += facts[i].Source is null ? facts[i].Bytes.Length : facts[i].Length;
            }
        var offsets = new long[modules.Count];
        // Appended to only when it is the very file the index was read with, and never through a
        // link (the index's device and inode are checksummed, not secret: a hostile image could name a host file's).
        var existing = folder.Identity(FactsFileName);
        var append = previous is not null && existing is { IsRegularFile: true } e && (e.Device, e.Inode) == previous._factsFile && e.Size <= 2 * live;
        (ulong, ulong) factsFile;
        if (append && folder.OpenAppend(FactsFileName) is { } appendHandle)
        {
            using (appendHandle)
            {
                var at = existing!.Value.Size;
                foreach (var i in keep)
                {
                    if (facts[i].Source == previous)
                    {
                        offsets[i] = facts[i].Offset;
                        continue;
                    }
                    offsets[i] = at;
                    folder.Write(appendHandle, FactsFileName, facts[i].Bytes.Span, at);
                    at += facts[i].Bytes.Length;
                }
            }
            factsFile = previous!._factsFile;
        }
        else
        {
            var created = new List<string>();
            try
            {
                using (var handle = folder.CreateTemporary(FactsFileName, created))
                {
                    long at = 0;
                    foreach (var i in keep)
                    {
                        offsets[i] = at;
                        folder.Write(handle, FactsFileName, facts[i].Bytes.Span, at);
                        at += facts[i].Bytes.Length;
                    }
                }
                folder.Rename(created[0], FactsFileName);
                created.Clear();
            }
            finally
            {
                foreach (var temp in created) folder.TryDelete(temp);
            }
            factsFile = folder.Identity(FactsFileName) is { } id ? (id.Device, id.Inode) : default;
        }

        var index = new MemoryStream();
        index.Write(Magic);
        using (var w = new BinaryWriter(index, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(FormatVersion);
            w.Write(factsFile.Item1);
            w.Write(factsFile.Item2);
            w.Write(keep.Count);
            foreach (var i in keep)
            {
                var id = modules[i].Identity!.Value;
                w.Write(modules[i].KmodPath);
                w.Write(id.Device); w.Write(id.Inode); w.Write(id.Size); w.Write(id.MtimeSeconds);
                w.Write(id.MtimeNanoseconds); w.Write(id.CtimeSeconds); w.Write(id.CtimeNanoseconds); w.Write(id.Mode);
                w.Write(facts[i].Digest);
                w.Write(offsets[i]);
                w.Write(facts[i].Source is null ? facts[i].Bytes.Length : facts[i].Length);
            }
        }
        index.Write(SHA256.HashData(index.GetBuffer().AsSpan(0, (int)index.Length)));
        // Checksummed, so no fsync: a cache lost or torn by a crash is detected and only costs a full read.
        IndexPublisher.WriteReplacing(folder, FileName, index.GetBuffer().AsSpan(0, (int)index.Length), durable: false);
    }
}
