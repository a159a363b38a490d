using System.Diagnostics;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// depmod: indexes the modules of one kernel and writes the files modprobe reads, byte for byte as
/// kmod 30's depmod (Debian 12) does. <see cref="Run"/> does it all; <see cref="Compute"/> and
/// <see cref="Publish"/> split it for callers that want to show what would be written first.
/// </summary>
/// <remarks>
/// Steps: read depmod.d; find module files (readdir order, duplicates settled by depmod.d and the
/// default "updates first"); order them (kmod's hash order, then modules.order); read each module
/// (in parallel, or from the cache); resolve symbols and dependencies (a cycle stops the run);
/// render every file in memory; publish them with <see cref="IndexPublisher"/>.
/// </remarks>
public static class DepmodRunner
{
    private const int ModuleBuckets = 512;

    /// <summary>Computes and writes the index. Throws <see cref="DependencyCycleException"/> (nothing written), <see cref="KernelNotInstalledException"/>, <see cref="OperationCanceledException"/>.</summary>
    public static DepmodResult Run(DepmodOptions options, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        using var plan = Compute(options, cancel);
        return Publish(plan, cancel) with { Duration = clock.Elapsed };
    }

    /// <summary>Writes a computed plan (nothing when it was skipped), relative to the output folder it holds.</summary>
    public static DepmodResult Publish(DepmodPlan plan, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var timeline = new DepmodTimeline();
        List<string> written = [];
        var unchanged = false;
        if (!plan.Skipped)
        {
            var opened = plan.OutputFolder is null ? plan.OpenOutputFolder!() : null;
            try
            {
                var folder = plan.OutputFolder ?? opened!;
                // The record of what is published, taken under the folder's lock right after publishing.
                Func<DepmodFile?>? record = plan.RecordPath is null || plan.InputDigest is null ? null : () =>
                    DepmodOutputRecord.Take(folder, plan.Files.Select(f => f.Name), plan.InputDigest, plan.SymbolCount, plan.AliasCount, plan.RecordWarnings) is { } r
                        ? new DepmodFile(Path.GetFileName(plan.RecordPath), r.Serialize())
                        : null;
                var cache = plan.OpenCacheFolder is null ? null : new DepmodCacheWrites(plan.OpenCacheFolder, plan.SaveCache, record);
                if (plan.Reuse is not null && IndexPublisher.Refresh(folder, plan.Reuse, cache, plan.LockTimeout, plan.StepHook, cancel, timeline))
                {
                    unchanged = true;
                    written = [.. plan.Files.Select(f => folder.PathOf(f.Name))];
                }
                else
                {
                    written = IndexPublisher.Publish(folder, plan.Files, cache, plan.LockTimeout, plan.StepHook, cancel, timeline);
                }
            }
            finally
            {
                opened?.Dispose();
            }
        }
        return new DepmodResult
        {
            KernelVersion = plan.KernelVersion,
            OutputDirectory = plan.OutputDirectory,
            ModuleCount = plan.ModuleCount,
            SymbolCount = plan.SymbolCount,
            AliasCount = plan.AliasCount,
            FilesWritten = written,
            Warnings = plan.Warnings,
            Duration = plan.Duration + clock.Elapsed,
            Skipped = plan.Skipped,
            ModulesFromCache = plan.ModulesFromCache,
            OutputsUnchanged = unchanged,
            Steps = plan.Steps.Concat(timeline.Steps).ToArray(),
        };
    }

    /// <summary>Everything but the writing: the files in memory, the counts and the warnings.</summary>
    public static DepmodPlan Compute(DepmodOptions options, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.KernelVersion);
        if (ModuleTree.ModuleDirectory.KernelVersionProblem(options.KernelVersion) is { } versionProblem)
            throw new ArgumentException($"'{options.KernelVersion}' is not a kernel version: {versionProblem}.", nameof(options));
        var clock = Stopwatch.StartNew();
        var timeline = new DepmodTimeline();
        var warnings = new List<DepmodWarning>();
        void Warn(DepmodWarning w)
        {
            warnings.Add(w);
            options.Warning?.Invoke(w);
        }

        var root = options.Root;
        var modulesDirectory = root.ModulesDirectory(options.KernelVersion);
        if (!Directory.Exists(modulesDirectory))
            throw new KernelNotInstalledException(options.KernelVersion, root, ModuleTree.ModuleDirectory.InstalledKernelVersions(root));
        var outputDirectory = options.OutputRoot is null
            ? modulesDirectory
            : Path.Join(Path.GetFullPath(options.OutputRoot), root.ModuleDirectory, options.KernelVersion);
        // The tree written to (the root, or the output root of depmod -o) and the folder in it.
        var outputTree = options.OutputRoot is null ? root : new SystemRoot(Path.GetFullPath(options.OutputRoot));
        var outputSystemPath = root.ModuleDirectory + "/" + options.KernelVersion;

        DepmodPlan Skip() => new()
        {
            KernelVersion = options.KernelVersion, OutputDirectory = outputDirectory, Files = [], ModuleCount = 0,
            SymbolCount = 0, AliasCount = 0, Warnings = warnings, Skipped = true, Duration = clock.Elapsed, Steps = timeline.Steps,
        };
        if (options.Quick && QuickCheck.IsUpToDate(modulesDirectory, outputDirectory))
            return Skip();

        // The output folder, resolved inside its root and held from here to the last rename, as
        // kmod's depmod holds its output folder: swapping a folder on its path for a link while
        // the modules are read cannot move a single file out of the root. Checked writable now,
        // not after reading thousands of modules.
        var outputFolder = Files.ContainedFolder.Open(outputTree, outputSystemPath);
        try
        {
            outputFolder?.CheckWritable();
            return ComputeWithFolder(options, cancel, clock, timeline, warnings, Warn, root, modulesDirectory, outputDirectory, outputTree, outputSystemPath, outputFolder);
        }
        catch
        {
            outputFolder?.Dispose();
            throw;
        }
    }

    private static DepmodPlan ComputeWithFolder(DepmodOptions options, CancellationToken cancel, Stopwatch clock, DepmodTimeline timeline,
        List<DepmodWarning> warnings, Action<DepmodWarning> warn, SystemRoot root, string modulesDirectory, string outputDirectory,
        SystemRoot outputTree, string outputSystemPath, Files.ContainedFolder? outputFolder)
    {
        void Warn(DepmodWarning w) => warn(w);

        KernelSymbols? kernel = null;
        if (options.SymVersPath is not null)
            kernel = KernelSymbols.ReadSymVers(options.SymVersPath, Warn);
        else if (options.SystemMapPath is not null)
            kernel = KernelSymbols.ReadSystemMap(options.SystemMapPath, Warn);

        var configPaths = options.ConfigPaths ?? DepmodOptions.DefaultConfigDirectories.Select(root.ResolveFolder).ToList();
        var config = DepmodConfiguration.Load(configPaths, options.KernelVersion, Warn, root);
        timeline.Mark("configuration");

        options.Progress?.Report(new DepmodProgress(DepmodStage.Scanning, 0, 0, modulesDirectory));
        var found = ModuleSearch.Find(modulesDirectory, root, config, Warn, cancel);
        timeline.Mark("walk and statx");
        var modules = ModuleOrder.Sort(KmodHash.IterationOrder(found, m => m.Name, ModuleBuckets), modulesDirectory, Warn, root);
        timeline.Mark("order");
        if (modules.Count >= ushort.MaxValue)
            throw new InvalidOperationException($"{modules.Count:N0} modules: kmod's index numbers modules with 16 bits, so no more than {ushort.MaxValue - 1:N0} fit.");
        cancel.ThrowIfCancellationRequested();

        var cachePath = DepmodCache.PathFor(root, options.OutputRoot, options.KernelVersion);
        DepmodCache? cache = null;
        if (options.UseCache && cachePath is not null)
        {
            cache = DepmodCache.Load(cachePath, out var problem);
            if (problem is not null)
                Warn(new DepmodWarning(DepmodWarningKind.Cache, cachePath, null, $"{cachePath}: ignored ({problem}); every module is read again"));
        }
        var useCache = options.UseCache && cachePath is not null;
        timeline.Mark("cache index");
        var set = ModuleFactsReader.ReadAll(modules, cache, Math.Max(1, options.MaxDegreeOfParallelism), options.Progress, cancel, encode: useCache, root);
        timeline.Mark($"read {modules.Count - set.FromCache} module files");
        void WarnUnreadable(int i, string problem, Action<DepmodWarning> warn) =>
            warn(new DepmodWarning(DepmodWarningKind.UnreadableModule, modules[i].FilePath, null,
                $"failed to load symbols from {modules[i].KmodPath}: {problem}; it is listed with no dependencies, exports or aliases"));
        for (var i = 0; i < modules.Count; i++)
            if (set.Facts[i]?.Problem is { } problem)
                WarnUnreadable(i, problem, Warn);
        var builtin = ReadInput(modulesDirectory, ModulesBuiltinFile.FileName, Warn, root);
        var builtinModinfo = ReadInput(modulesDirectory, ModulesBuiltinModinfoFile.FileName, Warn, root);
        timeline.Mark("builtin inputs");

        // The cache is written only where no link can carry it out of the tree (see DepmodCache.PathFor),
        // and only when it would change.
        Action<Files.ContainedFolder>? CacheFile()
        {
            if (!useCache || (cache is not null && set.FromCache == modules.Count && cache.Count == modules.Count))
                return null;
            var readable = set.Facts.Select(f => f?.Problem is null).ToArray();
            return folder => DepmodCache.Save(folder, modules, set.Blobs!, readable, cache);
        }

        // Inputs equal to those of the files on disk: take the files as they are (see DepmodOutputRecord).
        var recordPath = useCache && kernel is null ? DepmodOutputRecord.PathBeside(cachePath!) : null;
        byte[]? Digest() => recordPath is null ? null
            : DepmodOutputRecord.Digest(modules, set.Blobs!, outputDirectory, options.Layout, options.WriteWeakDependencies, builtin, builtinModinfo);
        var inputDigest = Digest();
        timeline.Mark("input digest");

        // The plan both ways end in: files kept as they are (reuse) or rendered again.
        DepmodPlan Plan(IReadOnlyList<DepmodFile> files, int symbols, int aliases, byte[]? digest,
            IReadOnlyList<DepmodWarning> recordWarnings, DepmodOutputRecord? reuse) => new()
        {
            KernelVersion = options.KernelVersion,
            OutputDirectory = outputDirectory,
            Files = files,
            ModuleCount = modules.Count,
            SymbolCount = symbols,
            AliasCount = aliases,
            Warnings = warnings,
            Skipped = false,
            ModulesFromCache = set.FromCache,
            Duration = clock.Elapsed,
            Steps = timeline.Steps,
            OutputFolder = outputFolder,
            OpenOutputFolder = () => OpenOrCreate(outputTree, outputSystemPath),
            // Opened when written, inside the tree it belongs to (never the path checked above).
            OpenCacheFolder = useCache ? () => OpenOrCreate(outputTree, $"{DepmodCache.SystemDirectory}/{options.KernelVersion}") : null,
            SaveCache = CacheFile(),
            LockTimeout = options.LockTimeout,
            StepHook = options.StepHook,
            Reuse = reuse,
            RecordPath = recordPath,
            InputDigest = digest,
            RecordWarnings = recordWarnings,
        };

        // Resolving and rendering, for whichever way needs them: the files' content when they are
        // not on disk as they would be written, or when one changed after the check below.
        var decoded = Enumerable.Range(0, modules.Count).Where(i => set.Facts[i] is null).ToList();
        var warningsBefore = warnings.Count; // the record keeps the warnings of resolving and rendering only
        (List<DepmodFile> Files, int Symbols, int Aliases) RenderFiles(Action<DepmodWarning> warn)
        {
            var facts = set.Materialize(cancel);
            timeline.Mark("decode cached facts");
            // A cache entry that failed its digest was read from its file, which may have failed too.
            foreach (var i in decoded)
                if (facts[i].Problem is { } problem)
                    WarnUnreadable(i, problem, warn);
            warningsBefore = warnings.Count;
            options.Progress?.Report(new DepmodProgress(DepmodStage.Resolving, 0, modules.Count, null));
            var output = new DepmodOutput(modules, facts, warn);
            var files = output.Render(options.Layout, options.WriteWeakDependencies, builtin, builtinModinfo, options.MaxDegreeOfParallelism, cancel,
                symbolLinesReady => DependencyResolver.Resolve(modules, facts, kernel, warn, cancel, symbolLinesReady), timeline);
            timeline.Mark("render");
            return (files, output.SymbolCount, output.AliasCount);
        }

        if (inputDigest is not null && DepmodOutputRecord.Load(recordPath!) is { } record && record.InputDigest.AsSpan().SequenceEqual(inputDigest)
            && record.FilesUnchanged(outputDirectory))
        {
            foreach (var w in record.Warnings)
                Warn(w);
            // The files are read only if asked for (a caller that looks at them, or a publication
            // that finds one changed after this check); one that changed meanwhile is rendered
            // again, its warnings already given by the record.
            var rendered = new Lazy<Dictionary<string, DepmodFile>>(() => RenderFiles(_ => { }).Files.ToDictionary(f => f.Name));
            var lazyFiles = record.Files.Select(f => new DepmodFile(f.Name, () =>
                DepmodOutputRecord.ReadIfUnchanged(outputDirectory, f.Name, f.Identity) ?? rendered.Value[f.Name].Content)).ToList();
            options.Progress?.Report(new DepmodProgress(DepmodStage.Writing, 0, lazyFiles.Count, outputDirectory));
            timeline.Mark("files on disk unchanged");
            return Plan(lazyFiles, record.SymbolCount, record.AliasCount, inputDigest, record.Warnings, reuse: record);
        }
        timeline.Mark("output record");

        var (files, symbols, aliases) = RenderFiles(Warn);
        options.Progress?.Report(new DepmodProgress(DepmodStage.Writing, 0, files.Count, outputDirectory));

        // Again: a damaged cache entry read from its file may have changed a digest.
        var digest = decoded.Count == 0 ? inputDigest : Digest();
        timeline.Mark("input digest");
        return Plan(files, symbols, aliases, digest, warnings.Skip(warningsBefore).ToList(), reuse: null);
    }

    /// <summary>
    /// A folder of the tree written to, created when missing, inside that tree. The tree's own
    /// folder (depmod -o's argument, the caller's choice) is created as a path, like depmod's mkdir -p.
    /// </summary>
    private static Files.ContainedFolder OpenOrCreate(SystemRoot tree, string systemPath)
    {
        if (!tree.IsHost)
            Directory.CreateDirectory(tree.Path);
        return Files.ContainedFolder.OpenOrCreate(tree, systemPath);
    }

    /// <summary>An input file of the kernel build; missing: kmod warns and publishes an empty index for it.</summary>
    private static byte[]? ReadInput(string directory, string name, Action<DepmodWarning> warn, SystemRoot root)
    {
        var path = Path.Join(directory, name);
        try
        {
            // Bounded, never blocking, contained in the root: a FIFO or a link to /dev/zero is refused.
            return Files.SafeFile.ReadAll(path, Files.FileLimits.TreeTextFile, root.Within(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn(new DepmodWarning(DepmodWarningKind.InputFile, path, null, $"could not open {name} at {directory}: {e.Message}; {name}.bin is written empty"));
            return null;
        }
    }
}
