using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell;

/// <summary>The listing work behind Get-KernelModule's Loaded and ListAvailable sets.</summary>
internal static class ModuleListing
{
    public static void WriteLoaded(PSCmdlet cmdlet, SystemRoot root, string[]? names, bool includeBuiltin)
    {
        var kernel = new RunningKernel(root);
        var patterns = new ModuleNamePatterns(names);
        if (!kernel.SupportsModules)
        {
            // An offline root lists no loaded module because nothing runs there, not for want of CONFIG_MODULES.
            cmdlet.WriteError(ModuleErrors.New(new KernelModulesUnsupportedException(kernel.Release, kernel.ProcModules.Path, kernel.ModulesUnsupportedReason),
                "KernelModulesUnsupported", ErrorCategory.NotImplemented, kernel.Release ?? root.Path,
                root.IsHost ? "KernelModulesUnsupported" : "KernelModulesUnsupported.Root"));
            if (!includeBuiltin)
                return;
        }
        var listed = new List<string>(); // the names a misspelt one may have meant
        if (kernel.SupportsModules)
        {
            foreach (var m in kernel.GetLoadedModules())
            {
                listed.Add(m.Name);
                if (patterns.Match(m.Name))
                    cmdlet.WriteObject(new LoadedKernelModule(m));
            }
        }
        if (includeBuiltin)
            foreach (var m in kernel.GetBuiltinModules())
            {
                listed.Add(m.Name);
                if (patterns.Match(m.Name))
                    cmdlet.WriteObject(new LoadedKernelModule(m));
            }
        if (kernel.SupportsModules || includeBuiltin)
            foreach (var name in patterns.UnmatchedLiterals())
                cmdlet.WriteError(Suggestions.Add(ModuleErrors.New(new ItemNotFoundException($"No loaded module is named '{name}'."),
                    "ModuleNotLoaded", ErrorCategory.ObjectNotFound, name, "ModuleNotLoaded", name), name, listed, moduleNames: true));
    }

    public static void WriteAvailable(PSCmdlet cmdlet, SystemRoot root, string? kernelVersion, string[]? names, bool includeBuiltin = false, ModuleSignatures? signatures = null)
    {
        var directory = ModuleTrees.Open(cmdlet, root, kernelVersion);
        if (directory is null)
            return;
        var patterns = new ModuleNamePatterns(names);
        var selected = directory.Modules().Where(m => patterns.Match(m.Name)).ToList();
        var config = Engine.Planner.ModprobeConfig.Load(root, directory);

        // The files are not read here (see Deferred). What reading would refuse before it starts (a
        // missing file, a FIFO, one outside the root, too large, empty) is checked now, so it is
        // still an error here. The map yields a class (a reference type, so the parallel map's
        // shared generic code is the precompiled one; a tuple result made the JIT compile it at the first call).
        // -CheckSignature: the verification (a read and a hash of every file) runs in the same map.
        var keyring = signatures?.For(directory.KernelVersion);
        var probes = OrderedParallel.Map(selected, m => Probe(m.Path, root, keyring), ReadingThreads);
        var index = new Engine.ModuleTree.IndexedModuleFacts(directory);
        var rootShown = root.Path;
        var i = 0;
        foreach (var probe in probes)
        {
            var module = selected[i++];
            if (probe.Error is not null)
            {
                cmdlet.WriteError(ModuleErrors.ForModuleFile(probe.Error, module.Path));
                continue;
            }
            // A module named exactly is one the caller asked about: it serialises whole (its file is
            // read then, once); a listing by pattern or of everything serialises what it knows.
            var file = Deferred(module, probe, root, index, config, rootShown);
            cmdlet.WriteObject(patterns.NamesLiterally(module.Name) ? file : file.AsListed());
        }
        foreach (var builtin in BuiltinModules(directory, patterns, includeBuiltin))
            cmdlet.WriteObject(new KernelModuleFile(builtin));
        // A name that is no module's may be an alias, as modinfo takes it (fs-msdos, a device's modalias).
        var resolver = new Engine.Planner.ModuleResolver(directory, config);
        foreach (var name in patterns.UnmatchedLiterals())
        {
            var matches = Engine.Planner.ModinfoLookup.Resolve(resolver, name);
            foreach (var match in matches)
            {
                if (match.Installed is { } installed)
                {
                    var probe = Probe(installed.Path, root, keyring);
                    if (probe.Error is not null)
                        cmdlet.WriteError(ModuleErrors.ForModuleFile(probe.Error, installed.Path));
                    else
                        cmdlet.WriteObject(Deferred(installed, probe, root, index, config, rootShown).WithMatchedAlias(match.MatchedAlias));
                }
                else if (directory.FindBuiltinModule(match.Module) is { } builtin)
                    cmdlet.WriteObject(new KernelModuleFile(builtin).WithMatchedAlias(match.MatchedAlias));
            }
            if (matches.Count == 0)
                cmdlet.WriteError(Suggestions.Add(ModuleErrors.New(new ItemNotFoundException($"No module named '{name}' is installed for kernel {directory.KernelVersion} under {root} ({directory.Path}), and no installed module has it as an alias."),
                    "ModuleNotInstalled", ErrorCategory.ObjectNotFound, name), name, directory.Modules().Select(m => m.Name), moduleNames: true));
        }
    }

    /// <summary>
    /// The object of an installed module, its file not read: the files are read when a property
    /// that needs them is first asked for (decompression is the cost of a listing, and most
    /// listings are filtered by name or piped on); what the stat and depmod's index know is
    /// answered from them (a filter on FileSize, Aliases or RequiredModules reads no file).
    /// </summary>
    private static KernelModuleFile Deferred(Engine.ModuleTree.InstalledModule module, ProbeResult probe, SystemRoot root,
        Engine.ModuleTree.IndexedModuleFacts index, Engine.Planner.ModprobeConfig config, string rootShown)
    {
        var path = module.Path;
        var file = KernelModuleFile.Deferred(module.Name, ModuleFileReader.PathShown(path, root),
            () => ModuleFileReader.Read(path, root, ModuleSymbolDetail.Counts), probe.Stamp!.Value, index, rootShown);
        if (probe.Signature is { } check)
            file.WithSignatureCheck(check);
        // Whether each module is disabled or blacklisted, and by which file and line (config read once).
        return file.WithLoadBlock(Engine.Configuration.ModuleLoadBlock.Of(config, module.Name));
    }

    /// <summary>
    /// Modules built into the kernel have no file, but modinfo shows their modules.builtin.modinfo
    /// records: one named exactly (and not installed) is shown, as modinfo shows it; by wildcard or
    /// in a whole listing, only with -IncludeBuiltin, because -ListAvailable lists what can be
    /// loaded, as kmod lists nothing for them.
    /// </summary>
    private static IEnumerable<BuiltinModuleInfo> BuiltinModules(Engine.ModuleTree.ModuleDirectory directory, ModuleNamePatterns patterns, bool includeBuiltin)
    {
        var candidates = includeBuiltin ? directory.BuiltinModules() : [.. patterns.UnmatchedLiterals()];
        foreach (var name in candidates)
            if (directory.FindBuiltinModule(name) is { } builtin && patterns.Match(builtin.Name))
                yield return builtin;
    }

    /// <summary>Module files are read (and decompressed) on this many threads.</summary>
    private static int ReadingThreads => Math.Max(2, Environment.ProcessorCount);

    /// <summary>What probing a file found: its size and time (and with -CheckSignature its verdict), or why reading it would be refused.</summary>
    private sealed record ProbeResult(Engine.Files.FileStamp? Stamp, Exception? Error, Engine.Integrity.ModuleSignatureCheck? Signature = null);

    private static ProbeResult Probe(string path, SystemRoot root, Engine.Integrity.KernelKeyring? keyring)
    {
        var probe = Probe(path, root);
        if (keyring is null || probe.Error is not null)
            return probe;
        var (check, error) = ModuleSignatures.Verify(path, keyring, root);
        return error is not null ? probe with { Error = error } : probe with { Signature = check };
    }

    private static ProbeResult Probe(string path, SystemRoot root)
    {
        try
        {
            return new(ModuleFileReader.Probe(path, root), null);
        }
        catch (Exception e) when (ModuleErrors.IsModuleFileFailure(e))
        {
            return new(null, e);
        }
    }

    /// <summary>
    /// -Path and -LiteralPath (and names that are plainly files): every file read now, on several
    /// threads, and written in the order given, each error in its place among the objects.
    /// </summary>
    public static void WriteFiles(PSCmdlet cmdlet, string[]? paths, string[]? literalPaths, ModuleSignatures? signatures = null)
    {
        var items = new List<(string? Path, ErrorRecord? Error)>();
        foreach (var path in ModuleFilePaths.Resolve(cmdlet, paths, literalPaths, error => items.Add((null, error))))
            items.Add((path, null));
        var reads = OrderedParallel.Map(items, item => item.Path is null ? default : ReadOne(item.Path), items.Count > 1 ? ReadingThreads : 1);
        // Reading (and decompressing) many files takes seconds: show how far it has come, about a
        // hundred updates in all, never one a file.
        // (A new record each time: the progress stream keeps the records written, not copies.)
        var showProgress = items.Count >= ProgressThreshold;
        var step = Math.Max(1, items.Count / 100);
        var i = 0;
        foreach (var (info, failure) in reads)
        {
            var (path, error) = items[i++];
            if (showProgress && i % step == 0)
                cmdlet.WriteProgress(new ProgressRecord(ProgressId, "Get-KernelModule", $"Reading {items.Count} module files: {i} done") { CurrentOperation = path, PercentComplete = i * 100 / items.Count });
            if (error is not null)
                cmdlet.WriteError(error);
            else if (info is null)
                cmdlet.WriteError(ModuleErrors.ForModuleFile(failure!, path!));
            else
            {
                ModuleErrors.WarnAboutDamage(cmdlet, info);
                var file = new KernelModuleFile(info);
                if (signatures is not null && Check(signatures, info) is var (check, verifyError))
                {
                    if (verifyError is not null)
                    {
                        cmdlet.WriteError(ModuleErrors.ForModuleFile(verifyError, info.Path));
                        continue;
                    }
                    file.WithSignatureCheck(check!);
                }
                cmdlet.WriteObject(file);
            }
        }
        if (showProgress)
            cmdlet.WriteProgress(new ProgressRecord(ProgressId, "Get-KernelModule", $"Read {items.Count} module files") { RecordType = ProgressRecordType.Completed });
    }

    /// <summary>
    /// A file given by path is checked against the image of the kernel its vermagic names (and the
    /// -Certificate files); one that names no kernel, against the -Certificate files alone.
    /// </summary>
    private static (Engine.Integrity.ModuleSignatureCheck?, Exception?) Check(ModuleSignatures signatures, ModuleFileInfo info) =>
        ModuleSignatures.Verify(info.Path, info.KernelVersion is { } version ? signatures.For(version) : new Engine.Integrity.KernelKeyring(signatures.Given), null);

    /// <summary>From this many files on, reading them shows progress (fewer take well under a second).</summary>
    private const int ProgressThreshold = 50;

    private const int ProgressId = 1;

    private static (ModuleFileInfo? Info, Exception? Failure) ReadOne(string path)
    {
        try
        {
            return (ModuleFileReader.Read(path, detail: ModuleSymbolDetail.Counts), null); // the objects show the symbols' counts only
        }
        catch (Exception e) when (ModuleErrors.IsModuleFileFailure(e))
        {
            return (null, e);
        }
    }
}
