using System.IO.Enumeration;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// Finds the module files of a tree as kmod 30's depmod does (depmod_modules_search): the modules
/// folder, then each external folder, depth first in the file system's own (readdir) order,
/// skipping "build", "source" and excluded names; when two files have the same module name,
/// override lines, then search lines decide, and on a tie the first one found stays. Using readdir
/// order, not a sorted one, is what makes ties come out as kmod's do.
/// </summary>
internal sealed class ModuleSearch
{
    /// <summary>Deeper than any real tree; stops a loop of symbolic links (kmod would recurse until paths are too long).</summary>
    private const int MaxDepth = 40;

    private readonly DepmodConfiguration _config;
    private readonly string _dirname;
    private readonly Action<DepmodWarning> _warn;
    private readonly CancellationToken _cancel;
    private readonly Dictionary<string, ModuleCandidate> _byName = new(StringComparer.Ordinal);

    private ModuleSearch(DepmodConfiguration config, string dirname, Action<DepmodWarning> warn, CancellationToken cancel)
    {
        _config = config;
        _dirname = dirname;
        _warn = warn;
        _cancel = cancel;
    }

    // modulesDirectory: The modules folder to walk (a real path).
    // root: Where external folders (system paths) are looked for.
    public static IReadOnlyCollection<ModuleCandidate> Find(string modulesDirectory, SystemRoot root, DepmodConfiguration config,
        Action<DepmodWarning> warn, CancellationToken cancel)
    {
        var search = new ModuleSearch(config, ByteString.FromPath(modulesDirectory), warn, cancel);
        search.Walk(modulesDirectory, search._dirname, relative: "", isExternal: false, depth: 0);
        // kmod walks external folders in its list order (the reverse of the files' order).
        foreach (var external in config.Externals)
        {
            var real = root.Resolve(external.StartsWith('/') ? external : "/" + external);
            if (!Directory.Exists(real))
                continue; // kmod ignores a missing external folder
            search.Walk(real, ByteString.FromPath(external), relative: "", isExternal: true, depth: 0);
        }
        // Files listed without their identity (the managed fallback) get it here, spread over the
        // cores; then the files are taken in the walk's order, which decides ties as kmod's does.
        var files = search._files;
        if (files.Any(f => !f.Stated))
            Parallel.For(0, files.Count, new ParallelOptions { CancellationToken = cancel }, i =>
            {
                if (!files[i].Stated)
                    files[i] = files[i] with { Identity = NativeFile.Stat(files[i].FilePath), Stated = true };
            });
        foreach (var f in files)
        {
            if (f.Identity is { IsRegularFile: false })
                continue; // kmod: "unsupported file type" for fifos, sockets, devices
            search.AddFile(new ModuleCandidate
            {
                FilePath = f.FilePath,
                KmodPath = f.KmodPath,
                RelativePath = f.RelativePath,
                Name = f.Name,
                Identity = f.Identity,
            });
        }
        return search._byName.Values;
    }

    private sealed record FoundFile(string FilePath, string KmodPath, string? RelativePath, string Name, FileIdentity? Identity, bool Stated);

    private readonly List<FoundFile> _files = [];

    private sealed record Entry(string Name, bool IsDirectory, FileIdentity? Identity, bool Stated);

    private static readonly Func<string, bool> IsModuleFile = ModuleTree.ModuleFileNames.IsModuleFile;

    private void Walk(string directory, string kmodDirectory, string relative, bool isExternal, int depth)
    {
        _cancel.ThrowIfCancellationRequested();
        if (depth > MaxDepth)
        {
            _warn(new DepmodWarning(DepmodWarningKind.UnreadableModule, directory, null, $"{directory}: more than {MaxDepth} folders deep; a loop of symbolic links? Not searched further."));
            return;
        }
        List<Entry> entries;
        try
        {
            // Top level only, in readdir order; IsDirectory follows symbolic links as kmod's fstatat does.
            // Module files come with their identity from the native listing; the managed one is the fallback.
            entries = NativeDirectory.TryList(directory, IsModuleFile) is { } native
                ? native.ConvertAll(e => new Entry(e.Name, e.IsDirectory, e.Identity, Stated: true))
                : [.. new FileSystemEnumerable<Entry>(directory,
                    (ref FileSystemEntry e) => new Entry(e.FileName.ToString(), e.IsDirectory, null, Stated: false),
                    new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0, ReturnSpecialDirectories = false })];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (depth == 0 && !isExternal)
                throw;
            _warn(new DepmodWarning(DepmodWarningKind.UnreadableModule, directory, null, $"{directory}: cannot be listed: {e.Message}"));
            return;
        }
        foreach (var entry in entries)
        {
            var name = entry.Name;
            if (ModuleTree.ModuleFileNames.IsSkippedFolder(name) || _config.Excludes.Contains(ByteString.FromPath(name)))
                continue;
            var full = Path.Join(directory, name);
            var kmodPath = kmodDirectory + "/" + ByteString.FromPath(name);
            var rel = relative + ByteString.FromPath(name);
            if (entry.IsDirectory)
            {
                Walk(full, kmodPath, rel + "/", isExternal, depth + 1);
                continue;
            }
            if (!ModuleTree.ModuleFileNames.IsModuleFile(name))
                continue;
            _files.Add(new FoundFile(full, kmodPath, isExternal ? null : rel, ModuleName.FromPath(ByteString.FromPath(name)), entry.Identity, entry.Stated));
        }
    }

    private void AddFile(ModuleCandidate candidate)
    {
        if (candidate.Name.Length == 0)
            return;
        if (_byName.TryGetValue(candidate.Name, out var existing) && ExistingWins(existing, candidate))
            return;
        _byName[candidate.Name] = candidate;
    }

    /// <summary>
    /// kmod's depmod_module_is_higher_priority, including its quirks: positions count along kmod's
    /// reversed lists, each external folder takes a position of its own, an unmatched path gets the
    /// position of "built-in" (-1 when there is none), and a tie keeps the module found first.
    /// </summary>
    private bool ExistingWins(ModuleCandidate old, ModuleCandidate candidate)
    {
        var newPath = candidate.KmodPath;
        var oldPath = old.KmodPath;
        // Both lengths reach to the end of the module name inside the file name (no extension).
        var newLength = candidate.LastSlash + 1 + candidate.Name.Length;
        var oldLength = old.LastSlash + 1 + old.Name.Length;
        string? relNew = null, relOld = null;
        if (newPath.StartsWith(_dirname, StringComparison.Ordinal) && newLength > _dirname.Length)
            relNew = newPath.Substring(_dirname.Length + 1, newLength - _dirname.Length - 1);
        if (oldPath.StartsWith(_dirname, StringComparison.Ordinal) && oldLength > _dirname.Length)
            relOld = oldPath.Substring(_dirname.Length + 1, oldLength - _dirname.Length - 1);

        foreach (var ov in _config.Overrides)
        {
            if (relNew == ov) return false;
            if (relOld == ov) return true;
        }

        int i = 0, builtinPriority = -1, oldPriority = -1, newPriority = -1;
        foreach (var search in _config.Searches)
        {
            switch (search.Kind)
            {
                case SearchKind.BuiltIn:
                    builtinPriority = i;
                    break;
                case SearchKind.External:
                    foreach (var ext in _config.Externals)
                    {
                        if (StartsWithFolder(newPath, newLength, ext)) newPriority = i;
                        if (StartsWithFolder(oldPath, oldLength, ext)) oldPriority = i;
                        i++;
                    }
                    break;
                default:
                    if (relNew is not null && StartsWithFolder(relNew, relNew.Length, search.Path)) newPriority = i;
                    else if (relOld is not null && StartsWithFolder(relOld, relOld.Length, search.Path)) oldPriority = i;
                    break;
            }
            i++;
        }
        if (newPriority < 0) newPriority = builtinPriority;
        if (oldPriority < 0) oldPriority = builtinPriority;
        return newPriority <= oldPriority;
    }

    /// <summary>kmod's depmod_is_path_starts_with: the first <paramref name="length"/> chars of the path begin with "folder/".</summary>
    private static bool StartsWithFolder(string path, int length, string folder) =>
        length > folder.Length && path[folder.Length] == '/' && string.CompareOrdinal(path, 0, folder, 0, folder.Length) == 0;
}
