using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// What the last run published, kept beside <see cref="DepmodCache"/>: a digest of everything the
/// index files are computed from (<see cref="InputDigest"/>), the <see cref="FileIdentity"/> each
/// file had right after it was published, and the counts and warnings of that run. When a run's
/// inputs digest to the same value and every file still has its identity, the files on disk are
/// byte for byte what rendering would produce again, so the run takes them as they are and only
/// renews their time stamps (what depmod -A and other readers compare), instead of resolving,
/// rendering and rewriting about 5 MB. This is what makes "a module was reinstalled or touched"
/// cost a directory walk instead of a full depmod.
/// </summary>
/// <remarks>
/// The digest covers the engine build (its module version id), the layout and file set, the
/// output folder, modules.builtin and modules.builtin.modinfo, and for every module in output
/// order its paths, its name and the SHA-256 of its facts: everything the rendering reads. Runs
/// with a System.map or Module.symvers are never reused (their warnings depend on those files).
/// Any change to an output file (kmod's depmod rewriting it, an edit, a truncation) changes its
/// ctime or inode, so the record no longer matches and the next run renders and writes again.
/// </remarks>
internal sealed class DepmodOutputRecord
{
    public const string FileName = "modules.lkmpowershell.outputs";
    private const uint FormatVersion = 1;
    private static readonly byte[] Magic = "LKMDEPO\n"u8.ToArray();

    public required byte[] InputDigest { get; init; }
    public required int SymbolCount { get; init; }
    public required int AliasCount { get; init; }

    /// <summary>The warnings of resolving and rendering, replayed when the files are reused.</summary>
    public required IReadOnlyList<DepmodWarning> Warnings { get; init; }

    /// <summary>Each published file's name and identity after publication, in publication order.</summary>
    public required IReadOnlyList<RecordedFile> Files { get; init; }

    /// <summary>Where the record of the cache at <paramref name="cachePath"/> lives: the same folder.</summary>
    public static string PathBeside(string cachePath) => Path.Join(Path.GetDirectoryName(cachePath), FileName);

    /// <summary>The digest of a run's inputs (see the remarks).</summary>
    public static byte[] Digest(IReadOnlyList<ModuleCandidate> modules, IReadOnlyList<ModuleFactsBlob> facts, string outputDirectory,
        IndexLayout layout, bool weakdeps, byte[]? builtin, byte[]? builtinModinfo)
    {
        // One buffer, sized up front and hashed once: thousands of small appends cost more than
        // the hashing, and growing the buffer copied it (and left large arrays for the GC) each time.
        long size = 16 + 3 * 8 + 2 * 8 + (builtin?.Length ?? 0) + (builtinModinfo?.Length ?? 0) + 8 + 2L * outputDirectory.Length;
        for (var i = 0; i < modules.Count; i++)
            size += 3 * 8 + 2L * (modules[i].KmodPath.Length + modules[i].OutputPath.Length + modules[i].Name.Length) + facts[i].Digest.Length;
        var rented = ArrayPool<byte>.Shared.Rent((int)Math.Min(size, Array.MaxLength));
        try
        {
            var at = 0;
            void Int(long value) { BinaryPrimitives.WriteInt64LittleEndian(rented.AsSpan(at), value); at += 8; }
            void Bytes(ReadOnlySpan<byte> value) { value.CopyTo(rented.AsSpan(at)); at += value.Length; }
            void Text(string value) { Int(value.Length); Bytes(MemoryMarshal.AsBytes(value.AsSpan())); }

            Bytes(typeof(DepmodOutputRecord).Module.ModuleVersionId.ToByteArray());
            Int((int)layout);
            Int(weakdeps ? 1 : 0);
            Text(outputDirectory);
            Int(builtin?.Length ?? -1);
            Bytes(builtin);
            Int(builtinModinfo?.Length ?? -1);
            Bytes(builtinModinfo);
            Int(modules.Count);
            for (var i = 0; i < modules.Count; i++)
            {
                Text(modules[i].KmodPath);
                Text(modules[i].OutputPath);
                Text(modules[i].Name);
                Bytes(facts[i].Digest);
            }
            return SHA256.HashData(rented.AsSpan(0, at));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// One file as it is on disk, when it still has the identity recorded; null when it differs,
    /// is missing or changes while being read.
    /// </summary>
    public static byte[]? ReadIfUnchanged(string directory, string name, FileIdentity identity)
    {
        var path = Path.Join(directory, name);
        // Never through a link: the record (checksummed, not secret) could name the identity of
        // a host file that a link in a hostile image points at.
        if (!identity.IsRegularFile || NativeFile.Stat(path, followLinks: false) != identity)
            return null;
        byte[] content;
        try
        {
            content = LkmPowerShell.Engine.Files.SafeFile.ReadAll(path, LkmPowerShell.Engine.Files.FileLimits.TreeTextFile, followLinks: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return NativeFile.Stat(path, followLinks: false) != identity || content.Length != identity.Size ? null : content;
    }

    /// <summary>Whether every file still has the identity recorded (checked again under the folder's lock before reuse).</summary>
    public bool FilesUnchanged(string directory) =>
        Files.All(f => f.Identity.IsRegularFile && NativeFile.Stat(Path.Join(directory, f.Name), followLinks: false) == f.Identity);

    /// <summary>As <see cref="FilesUnchanged(string)"/>, relative to the held output folder (under its lock, before reuse).</summary>
    public bool FilesUnchanged(Files.ContainedFolder folder) =>
        Files.All(f => f.Identity.IsRegularFile && folder.Identity(f.Name) == f.Identity);

    /// <summary>The record of files just published in <paramref name="folder"/> (their identities taken now); null when one cannot be had.</summary>
    public static DepmodOutputRecord? Take(Files.ContainedFolder folder, IEnumerable<string> names, byte[] inputDigest, int symbolCount, int aliasCount, IReadOnlyList<DepmodWarning> warnings)
    {
        var files = new List<RecordedFile>();
        foreach (var name in names)
        {
            if (folder.Identity(name) is not { } id)
                return null;
            files.Add(new RecordedFile(name, id));
        }
        return new DepmodOutputRecord { InputDigest = inputDigest, SymbolCount = symbolCount, AliasCount = aliasCount, Warnings = warnings, Files = files };
    }

    public byte[] Serialize()
    {
        var stream = new MemoryStream();
        stream.Write(Magic);
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(FormatVersion);
            w.Write(InputDigest.Length);
            w.Write(InputDigest);
            w.Write(SymbolCount);
            w.Write(AliasCount);
            w.Write(Warnings.Count);
            foreach (var warning in Warnings)
            {
                w.Write((int)warning.Kind);
                w.Write(warning.Module ?? "\0");
                w.Write(warning.Symbol ?? "\0");
                w.Write(warning.Message);
            }
            w.Write(Files.Count);
            foreach (var (name, id) in Files)
            {
                w.Write(name);
                w.Write(id.Device); w.Write(id.Inode); w.Write(id.Size); w.Write(id.MtimeSeconds);
                w.Write(id.MtimeNanoseconds); w.Write(id.CtimeSeconds); w.Write(id.CtimeNanoseconds); w.Write(id.Mode);
            }
        }
        stream.Write(SHA256.HashData(stream.GetBuffer().AsSpan(0, (int)stream.Length)));
        return stream.ToArray();
    }

    /// <summary>The record at <paramref name="path"/>; null when missing, damaged or of another format (then nothing is reused).</summary>
    public static DepmodOutputRecord? Load(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var data = LkmPowerShell.Engine.Files.SafeFile.ReadAll(path, LkmPowerShell.Engine.Files.FileLimits.DepmodCache, followLinks: false);
            if (data.Length < Magic.Length + 4 + 32 || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                return null;
            var body = data.AsSpan(0, data.Length - 32);
            if (!SHA256.HashData(body).AsSpan().SequenceEqual(data.AsSpan(data.Length - 32)))
                return null;
            using var reader = new BinaryReader(new MemoryStream(data, Magic.Length, body.Length - Magic.Length), Encoding.UTF8);
            if (reader.ReadUInt32() != FormatVersion)
                return null;
            var digest = reader.ReadBytes(Math.Clamp(reader.ReadInt32(), 0, 64));
            var symbols = reader.ReadInt32();
            var aliases = reader.ReadInt32();
            var warnings = new List<DepmodWarning>();
            for (var n = Count(reader); n > 0; n--)
            {
                var kind = (DepmodWarningKind)reader.ReadInt32();
                var module = reader.ReadString();
                var symbol = reader.ReadString();
                warnings.Add(new DepmodWarning(kind, module == "\0" ? null : module, symbol == "\0" ? null : symbol, reader.ReadString()));
            }
            var files = new List<RecordedFile>();
            for (var n = Count(reader); n > 0; n--)
                files.Add(new RecordedFile(reader.ReadString(), new FileIdentity(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadInt64(), reader.ReadInt64(),
                    reader.ReadUInt32(), reader.ReadInt64(), reader.ReadUInt32(), reader.ReadUInt32())));
            if (reader.BaseStream.Position != reader.BaseStream.Length || files.Any(f => f.Name.Contains('/')))
                return null;
            return new DepmodOutputRecord { InputDigest = digest, SymbolCount = symbols, AliasCount = aliases, Warnings = warnings, Files = files };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or EndOfStreamException or ArgumentException or FormatException)
        {
            return null;
        }
    }

    private static int Count(BinaryReader reader)
    {
        var n = reader.ReadInt32();
        if (n < 0 || n > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException("bad count");
        return n;
    }
}

/// <summary>A published file's name and its identity right after publication (a class: see ValueList on why not a tuple).</summary>
internal sealed record RecordedFile(string Name, FileIdentity Identity);
