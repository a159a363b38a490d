using System.Buffers.Binary;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.Elf;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Fuzz;

/// <summary>
/// One fuzz target per reader of untrusted bytes. Each runs the reader the way the cmdlets do and
/// accepts only the engine's own refusal (<see cref="ModuleFormatException"/>): any other exception,
/// a hang or a crash is a finding. The unit tests replay fuzz/regressions through these same targets.
/// </summary>
public static class Targets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["module"] = Module,
        ["index"] = Index,
        ["modules-dep"] = ModuleTreeTextFiles,
        ["modprobe-d"] = ModprobeD,
        ["kallsyms"] = Kallsyms,
        ["module-file"] = ModuleFile,
        ["depmod-cache"] = DepmodCacheFiles,
    };

    /// <summary>A folder on tmpfs for the readers that take a path: one per process.</summary>
    private static readonly Lazy<string> Scratch = new(() =>
    {
        var baseDir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var dir = Path.Combine(baseDir, $"lkm-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(Path.Combine(dir, "proc"));
        return dir;
    });

    /// <summary>The module reader, plain or compressed (the seeds have both): ELF, modinfo, symbols, signature.</summary>
    public static void Module(byte[] data)
    {
        try
        {
            var info = ModuleFileReader.Parse(data, "fuzz.ko", data.Length);
            _ = ModinfoText.Format(info);
        }
        catch (ModuleFormatException) { }
    }

    /// <summary>
    /// The module reader as listing and depmod use it on a file: pread of the magic, a 32 KiB tail,
    /// then each section where the headers say (the sparse reader), for modinfo and for depmod's
    /// facts. The result must equal the in-memory parse of the same bytes: a difference is a finding.
    /// </summary>
    public static void ModuleFile(byte[] data)
    {
        var path = Path.Combine(Scratch.Value, "fuzz.ko");
        File.WriteAllBytes(path, data);
        string? fromFile = null, fromMemory = null;
        try { fromFile = ModinfoText.Format(ModuleFileReader.Read(path)); }
        catch (ModuleFormatException) { }
        catch (IOException) when (data.Length == 0) { }
        try { fromMemory = ModinfoText.Format(ModuleFileReader.Parse(data, path, data.Length)); }
        catch (ModuleFormatException) { }
        if (data.Length > 0 && fromFile != fromMemory)
            throw new InvalidOperationException($"the sparse reader and the in-memory parse disagree:\n{fromFile}\n---\n{fromMemory}");

        // depmod's facts-only read of a plain file, through the same sparse source it uses.
        if (data.Length == 0 || ModuleDecompressor.Detect(data) != ModuleCompression.None)
            return;
        using var handle = File.OpenHandle(path);
        var source = new FileElfSource();
        source.Open(handle, data.Length);
        try { _ = ModuleFactsReader.Facts(ElfImage.Parse(source, path)); }
        catch (ModuleFormatException) { }
    }

    private static readonly FieldInfo CacheEntries = typeof(DepmodCache).GetField("_entries", BindingFlags.NonPublic | BindingFlags.Instance)!;

    /// <summary>
    /// depmod's cache and output record, as a hostile image can write them: their checksums are
    /// made valid here (they are not secret), so the parsers behind them are what is fuzzed.
    /// First byte even: a cache (bytes 1-4 the index body's length, then the body, then the facts
    /// file; the body's facts-file identity is set to the real one); odd: an output record body.
    /// </summary>
    public static void DepmodCacheFiles(byte[] data)
    {
        if (data.Length < 1) return;
        var dir = Path.Combine(Scratch.Value, "depmod");
        Directory.CreateDirectory(dir);
        static byte[] Sealed(ReadOnlySpan<byte> body) => [.. body, .. SHA256.HashData(body)];
        if (data[0] % 2 == 1)
        {
            var recordPath = Path.Combine(dir, DepmodOutputRecord.FileName);
            File.WriteAllBytes(recordPath, Sealed(data.AsSpan(1)));
            if (DepmodOutputRecord.Load(recordPath) is { } record && record.FilesUnchanged(dir))
                foreach (var file in record.Files)
                    _ = DepmodOutputRecord.ReadIfUnchanged(dir, file.Name, file.Identity);
            return;
        }
        var rest = data.AsSpan(1);
        var length = rest.Length >= 4 ? (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(rest), (uint)(rest.Length - 4)) : 0;
        var body = rest.Length >= 4 ? rest.Slice(4, length).ToArray() : [];
        var factsPath = Path.Combine(dir, DepmodCache.FactsFileName);
        File.WriteAllBytes(factsPath, rest.Length >= 4 ? rest[(4 + length)..].ToArray() : []);
        if (body.Length >= 28 && NativeFile.Stat(factsPath) is { } facts)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(12), facts.Device);
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(20), facts.Inode);
        }
        var indexPath = Path.Combine(dir, DepmodCache.FileName);
        File.WriteAllBytes(indexPath, Sealed(body));
        if (DepmodCache.Load(indexPath, out _) is not { } cache)
            return;
        var entries = (System.Collections.IDictionary)CacheEntries.GetValue(cache)!;
        foreach (System.Collections.DictionaryEntry entry in entries)
        {
            var (_, blob) = ((FileIdentity, ModuleFactsBlob))entry.Value!;
            try { _ = blob.Decode(); }
            catch (InvalidDataException) { }
        }
    }

    /// <summary>A .bin index: every key and value, exact and wildcard lookups.</summary>
    public static void Index(byte[] data)
    {
        try
        {
            var index = IndexFile.Parse("fuzz.bin", data);
            var n = 0;
            foreach (var entry in index.Enumerate())
            {
                _ = index.Lookup(entry.Key);
                if (++n > 64) break;
            }
            _ = index.SearchWildcard("pci:v00008086d00001234sv00001111sd00002222bc02sc00i00");
            _ = index.Lookup("kernel/fs/fat/fat.ko");
            _ = index.LookupAll("fat");
        }
        catch (ModuleFormatException) { }
    }

    /// <summary>modules.dep, modules.alias and modules.softdep: the first byte picks the file.</summary>
    public static void ModuleTreeTextFiles(byte[] data)
    {
        if (data.Length == 0) return;
        var path = Path.Combine(Scratch.Value, "modules.txt");
        File.WriteAllBytes(path, data.AsSpan(1).ToArray());
        try
        {
            switch (data[0] % 3)
            {
                case 0: _ = ModulesDepFile.Read(path, "/lib/modules/0"); break;
                case 1: _ = ModulesAliasFile.Read(path); break;
                default: _ = ModulesSoftdepFile.Read(path); break;
            }
        }
        catch (ModuleFormatException) { }
    }

    /// <summary>One modprobe.d file; a bad line is a warning, so nothing may throw at all.</summary>
    public static void ModprobeD(byte[] data)
    {
        var builder = new ModprobeConfig.Builder();
        ModprobeConfigParser.Parse(ByteText.FromBytes(data), "fuzz.conf", builder);
        _ = builder.Build();
    }

    /// <summary>/proc/kallsyms under a root, streamed in full.</summary>
    public static void Kallsyms(byte[] data)
    {
        File.WriteAllBytes(Path.Combine(Scratch.Value, "proc", "kallsyms"), data);
        try
        {
            foreach (var _ in new KallsymsReader(new SystemRoot(Scratch.Value)).Read()) { }
        }
        catch (ModuleFormatException) { }
    }
}
