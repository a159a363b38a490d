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
/// Robustness: the file ends with a SHA-256 of the rest, so a torn or damaged cache is detected and
/// ignored as a whole; a format or engine change bumps <see cref="FormatVersion"/>. An entry is used
/// only when device, inode, size, mtime and ctime all match, and unreadable modules are never
/// cached, so a transient read error is retried. The cache is written like the index files
/// (temporary file, fsync, rename), after them.
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
    private const uint FormatVersion = 1;
    private static readonly byte[] Magic = "LKMDEPC\n"u8.ToArray();

    private readonly Dictionary<string, (FileIdentity Identity, ModuleFacts Facts)> _entries;

    private DepmodCache(Dictionary<string, (FileIdentity, ModuleFacts)> entries) => _entries = entries;

    public int Count => _entries.Count;

    public ModuleFacts? TryGet(ModuleCandidate module) =>
        module.Identity is { } id && _entries.TryGetValue(module.KmodPath, out var e) && e.Identity == id ? e.Facts : null;

    /// <summary>Reads the cache; null when it is missing, and null with a reason when it is damaged.</summary>
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
            if (data.Length < Magic.Length + 4 + 32 || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                throw new InvalidDataException("not a cache file");
            var body = data.AsSpan(0, data.Length - 32);
            if (!SHA256.HashData(body).AsSpan().SequenceEqual(data.AsSpan(data.Length - 32)))
                throw new InvalidDataException("checksum mismatch");
            using var reader = new BinaryReader(new MemoryStream(data, Magic.Length, body.Length - Magic.Length), Encoding.UTF8);
            if (reader.ReadUInt32() != FormatVersion)
                return null; // another format: rebuilt, not an error
            var count = reader.ReadInt32();
            var entries = new Dictionary<string, (FileIdentity, ModuleFacts)>(Math.Min(count, 1 << 20), StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var id = new FileIdentity(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadInt64(), reader.ReadInt64(),
                    reader.ReadUInt32(), reader.ReadInt64(), reader.ReadUInt32(), reader.ReadUInt32());
                var exports = new ProvidedSymbol[ReadCount(reader)];
                for (var j = 0; j < exports.Length; j++) exports[j] = new ProvidedSymbol(reader.ReadString(), reader.ReadUInt64());
                var needs = new NeededSymbol[ReadCount(reader)];
                for (var j = 0; j < needs.Length; j++) needs[j] = new NeededSymbol(reader.ReadString(), reader.ReadUInt64(), reader.ReadBoolean());
                entries[key] = (id, new ModuleFacts(exports, needs, ReadStrings(reader), ReadStrings(reader), ReadStrings(reader), null));
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

    private static int ReadCount(BinaryReader reader)
    {
        var n = reader.ReadInt32();
        // A count larger than what is left cannot be right; refuse it before allocating.
        if (n < 0 || n > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException("bad count");
        return n;
    }

    private static string[] ReadStrings(BinaryReader reader)
    {
        var a = new string[ReadCount(reader)];
        for (var i = 0; i < a.Length; i++) a[i] = reader.ReadString();
        return a;
    }

    /// <summary>The cache file's bytes for these modules (unreadable ones and ones without identity left out).</summary>
    public static byte[] Serialize(IReadOnlyList<ModuleCandidate> modules, IReadOnlyList<ModuleFacts> facts)
    {
        var stream = new MemoryStream();
        stream.Write(Magic);
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            var keep = Enumerable.Range(0, modules.Count).Where(i => modules[i].Identity is not null && facts[i].Problem is null).ToList();
            w.Write(FormatVersion);
            w.Write(keep.Count);
            foreach (var i in keep)
            {
                var id = modules[i].Identity!.Value;
                var f = facts[i];
                w.Write(modules[i].KmodPath);
                w.Write(id.Device); w.Write(id.Inode); w.Write(id.Size); w.Write(id.MtimeSeconds);
                w.Write(id.MtimeNanoseconds); w.Write(id.CtimeSeconds); w.Write(id.CtimeNanoseconds); w.Write(id.Mode);
                w.Write(f.Exports.Length);
                foreach (var e in f.Exports) { w.Write(e.Name); w.Write(e.Crc); }
                w.Write(f.Needs.Length);
                foreach (var n in f.Needs) { w.Write(n.Name); w.Write(n.Crc); w.Write(n.IsWeak); }
                WriteStrings(w, f.Aliases);
                WriteStrings(w, f.Softdeps);
                WriteStrings(w, f.Weakdeps);
            }
        }
        stream.Write(SHA256.HashData(stream.GetBuffer().AsSpan(0, (int)stream.Length)));
        return stream.ToArray();
    }

    private static void WriteStrings(BinaryWriter w, string[] values)
    {
        w.Write(values.Length);
        foreach (var v in values) w.Write(v);
    }
}
