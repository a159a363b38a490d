using LkmPowerShell.Engine.Elf;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.ModuleFiles;
using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// Reads the facts of many module files at once, through the engine's one ELF reader
/// (<see cref="ElfImage"/> and <see cref="ModuleElfExtractor"/>) in a facts-only mode: an
/// uncompressed file is read with pread where the sections depmod needs are, and only the strings
/// depmod keeps are made. Each worker keeps two buffers (the file, the decompressed image) and reuses them, so reading thousands of modules allocates little beyond
/// the facts themselves. Larger files go first, so that one big module does not finish alone at
/// the end while the other core idles.
/// </summary>
internal static class ModuleFactsReader
{
    /// <summary>
    /// The facts of a run's modules, index by index: <see cref="Facts"/> (null for a module whose
    /// facts are still only encoded, from the cache) and <see cref="Blobs"/> (null when not encoded).
    /// </summary>
    internal sealed class ModuleFactsSet(IReadOnlyList<ModuleCandidate> modules, int parallelism, SystemRoot? root)
    {
        public ModuleFacts?[] Facts { get; } = new ModuleFacts?[modules.Count];
        public ModuleFactsBlob?[] Blobs { get; } = new ModuleFactsBlob?[modules.Count];
        public int FromCache { get; set; }

        /// <summary>
        /// Decodes every cached module's facts (in parallel); an entry whose bytes fail their
        /// digest is read from its file instead, so a damaged entry costs one module, not the run.
        /// </summary>
        public ModuleFacts[] Materialize(CancellationToken cancel)
        {
            var pending = Enumerable.Range(0, Facts.Length).Where(i => Facts[i] is null).ToList();
            RunWorkers(pending, parallelism, cancel, (worker, i) =>
            {
                try
                {
                    Facts[i] = Blobs[i]!.Decode();
                }
                catch (InvalidDataException)
                {
                    var facts = Facts[i] = worker.Read(modules[i].FilePath, root?.Within(modules[i].FilePath));
                    Blobs[i] = ModuleFactsBlob.Encode(facts);
                }
            });
            return Facts!;
        }
    }

    /// <summary>
    /// The facts of every module: read from the file, or for a module the cache knows, only its
    /// encoded facts (<see cref="ModuleFactsSet.Blobs"/>), decoded later by
    /// <see cref="ModuleFactsSet.Materialize"/> if the run needs them at all. With
    /// <paramref name="encode"/>, the facts read are encoded too (for the cache and the digest).
    /// </summary>
    public static ModuleFactsSet ReadAll(IReadOnlyList<ModuleCandidate> modules, DepmodCache? cache, int parallelism,
        IProgress<DepmodProgress>? progress, CancellationToken cancel, bool encode = false, SystemRoot? root = null)
    {
        var set = new ModuleFactsSet(modules, parallelism, root);
        var toRead = new List<int>();
        for (var i = 0; i < modules.Count; i++)
        {
            if (cache?.TryGet(modules[i]) is { } hit)
            {
                set.Blobs[i] = hit;
                set.FromCache++;
            }
            else
            {
                toRead.Add(i);
            }
        }
        toRead.Sort((a, b) => (modules[b].Identity?.Size ?? 0).CompareTo(modules[a].Identity?.Size ?? 0));

        var done = set.FromCache;
        progress?.Report(new DepmodProgress(DepmodStage.Reading, done, modules.Count, null));
        RunWorkers(toRead, parallelism, cancel, (worker, i) =>
        {
            var facts = set.Facts[i] = worker.Read(modules[i].FilePath, root?.Within(modules[i].FilePath));
            if (encode)
                set.Blobs[i] = ModuleFactsBlob.Encode(facts);
            var completed = Interlocked.Increment(ref done);
            if (progress is not null && (completed & 63) == 0)
                progress.Report(new DepmodProgress(DepmodStage.Reading, completed, modules.Count, modules[i].FilePath));
        });
        progress?.Report(new DepmodProgress(DepmodStage.Reading, modules.Count, modules.Count, null));
        return set;
    }

    /// <summary>Runs <paramref name="work"/> for each index on up to <paramref name="parallelism"/> threads, each with its own <see cref="Worker"/>.</summary>
    internal static void RunWorkers(List<int> items, int parallelism, CancellationToken cancel, Action<Worker, int> work)
    {
        var next = -1;
        var workers = Math.Max(1, Math.Min(parallelism, items.Count));
        if (items.Count == 0)
            return;
        var threads = new Task[workers];
        for (var w = 0; w < workers; w++)
        {
            threads[w] = Task.Factory.StartNew(() =>
            {
                var worker = new Worker();
                int k;
                while ((k = Interlocked.Increment(ref next)) < items.Count)
                {
                    cancel.ThrowIfCancellationRequested();
                    work(worker, items[k]);
                }
            }, cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        try
        {
            Task.WaitAll(threads);
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
        {
            throw new OperationCanceledException(cancel);
        }
    }

    /// <summary>One worker's reusable buffers: the compressed file, the decompressed image, the pieces of a plain file.</summary>
    internal sealed class Worker
    {
        private byte[] _file = [];
        private byte[] _image = [];
        private readonly FileElfSource _sparse = new();
        private readonly byte[] _magic = new byte[ModuleDecompressor.MagicLength];

        /// <summary>One module's facts; a file that cannot be read or parsed gives facts with a <see cref="ModuleFacts.Problem"/>.</summary>
        public ModuleFacts Read(string path, SystemRoot? within = null)
        {
            try
            {
                // Never blocks on a FIFO, refuses devices, and the size limit is checked before reading.
                using var handle = Files.SafeFile.Open(path, Files.FileLimits.ModuleFile, within, out var length);
                if (length == 0)
                    return ModuleFacts.Unreadable("the file is empty");
                var head = SafeFile.ReadFully(handle, _magic.AsSpan(0, (int)Math.Min(length, _magic.Length)), 0);
                var compression = ModuleDecompressor.Detect(_magic.AsSpan(0, head));
                if (compression == ModuleCompression.None)
                {
                    // Only the headers and the sections depmod needs are read.
                    _sparse.Open(handle, length);
                    try { return Facts(ElfImage.Parse(_sparse, path)); }
                    finally { _sparse.Reset(); }
                }
                if (_file.Length < length)
                    _file = new byte[length];
                var read = SafeFile.ReadFully(handle, _file.AsSpan(0, (int)length), 0);
                var size = ModuleDecompressor.Decompress(_file.AsSpan(0, read), compression, path, ref _image, Files.FileLimits.DecompressedModule.MaxBytes);
                return Facts(ElfImage.Parse(_image.AsMemory(0, size), path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModuleFormatException or NativeLibraryMissingException
                // A hostile size or offset that slips past a check must cost one module, not the run.
                or ArgumentException or IndexOutOfRangeException or OverflowException)
            {
                return ModuleFacts.Unreadable(e.Message);
            }
        }
    }

    /// <summary>The .modinfo keys depmod writes out (modules.alias, modules.softdep, modules.weakdep).</summary>
    private static readonly string[] DepmodKeys = ["alias", "softdep", "weakdep"];

    /// <summary>depmod's facts of one module: the reader's exports, needs and .modinfo, nothing else.</summary>
    internal static ModuleFacts Facts(ElfImage elf)
    {
        ModuleElfExtractor.RequireModule(elf);
        var symtab = elf.FindSection(".symtab");
        var symbols = symtab is null ? null : elf.OpenSymbols(symtab);
        var versions = ModuleElfExtractor.ReadVersions(elf);
        var exported = ModuleElfExtractor.ReadExports(elf, symbols);
        var needs = ModuleElfExtractor.ReadRequiredSymbols(elf, symbols, versions, static (name, crc, weak) => new NeededSymbol(name, crc ?? 0, weak));
        var exports = new ProvidedSymbol[exported.Length];
        for (var i = 0; i < exports.Length; i++)
            exports[i] = new ProvidedSymbol(exported[i].Name, exported[i].Crc ?? 0);
        List<string> aliases = [], softdeps = [], weakdeps = [];
        foreach (var e in ModuleElfExtractor.ReadModInfo(elf, DepmodKeys))
            (e.Key == "alias" ? aliases : e.Key == "softdep" ? softdeps : weakdeps).Add(e.Value);
        return new ModuleFacts(exports, needs, [.. aliases], [.. softdeps], [.. weakdeps], null);
    }
}
