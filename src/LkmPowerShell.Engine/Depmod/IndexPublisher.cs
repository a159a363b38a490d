using System.Text;
using LkmPowerShell.Engine.Files;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// Puts a set of index files in place so that no reader ever sees a torn file, a failed or
/// cancelled run changes nothing, and a crash at any moment leaves every file either old or new,
/// with the set made whole again (all new) by the next run.
/// </summary>
/// <remarks>
/// Every step works relative to the output folder held open (<see cref="ContainedFolder"/>: resolved
/// inside the root once, then openat, renameat, unlinkat, flock and fsync on its descriptor), as
/// kmod's depmod works in its output folder: a folder swapped for a link while the modules are
/// read cannot carry a single file out of the root. The steps, under an exclusive flock on the
/// folder itself (so two runs publish one after the other, never interleaved; no lock file is
/// created, so there is none to plant as a symbolic link and none left behind in a folder the
/// package manager owns):
/// <list type="number">
/// <item>Finish a crashed run's publication if its journal is there; delete stale temporary files.</item>
/// <item>Write every file to a temporary file in the same folder (".name.lkmps-RANDOM.tmp",
///   mode 0644) and fsync each. Until here a failure or cancellation deletes the temporaries and
///   the old set is untouched.</item>
/// <item>Commit: write and fsync the journal (the list of renames still to do) and rename it into
///   place. From here on the run completes even if cancelled.</item>
/// <item>Rename each temporary over its target (each rename is atomic), fsync the folder, remove
///   the journal.</item>
/// </list>
/// A crash between two renames leaves some files new and others old (each whole); the journal
/// then names the temporaries still waiting, and the next run renames them first. kmod 30 writes
/// each file to a temporary and renames it too, but without fsync and one file at a time, so a
/// crash can leave an empty or mixed set, and a failure half way through the list leaves a mix.
/// Errors name the target file, never a temporary.
/// </remarks>
internal static class IndexPublisher
{
    public const string JournalFileName = "modules.lkmpowershell.journal";
    private const string TempMarker = ".lkmps-";

    /// <summary>Publishes <paramref name="files"/> into <paramref name="folder"/>, then, best effort, writes the cache (<paramref name="cache"/>).</summary>
    /// <returns>The full paths of the files published, in order.</returns>
    public static List<string> Publish(ContainedFolder folder, IReadOnlyList<DepmodFile> files, DepmodCacheWrites? cache,
        TimeSpan lockTimeout, Action<string>? hook, CancellationToken cancel, DepmodTimeline? timeline = null)
    {
        using var folderLock = folder.LockIndex(lockTimeout, cancel);
        hook?.Invoke("locked");
        Recover(folder);
        timeline?.Mark("lock and recover");

        var temps = new List<(string Temp, string Target)>();
        var created = new List<string>();
        var committed = false;
        try
        {
            var handles = new List<Microsoft.Win32.SafeHandles.SafeFileHandle>(files.Count);
            try
            {
                foreach (var file in files)
                {
                    cancel.ThrowIfCancellationRequested();
                    hook?.Invoke("write:" + file.Name);
                    var handle = folder.CreateTemporary(file.Name, created);
                    handles.Add(handle);
                    folder.Write(handle, file.Name, file.Content);
                    temps.Add((created[^1], file.Name));
                }
                // Durable before the commit. Writeback of every file is started first, so the
                // file system allocates them all and the first fsync's journal commit covers them
                // all: one commit instead of one per file.
                foreach (var handle in handles)
                    NativeFile.StartWriteback(handle);
                for (var i = 0; i < handles.Count; i++)
                    folder.Flush(handles[i], temps[i].Target);
            }
            finally
            {
                foreach (var handle in handles)
                    handle.Dispose();
            }
            cancel.ThrowIfCancellationRequested();
            timeline?.Mark("write and fsync temporaries");
            hook?.Invoke("commit");
            WriteJournal(folder, temps);
            committed = true;
            timeline?.Mark("journal");
        }
        finally
        {
            if (!committed)
                foreach (var temp in created)
                    folder.TryDelete(temp);
        }

        // Past the commit point: finish even when cancelled. An exception here (a crash) leaves
        // the journal for the next run to complete.
        foreach (var (temp, target) in temps)
        {
            hook?.Invoke("rename:" + target);
            folder.Rename(temp, target);
        }
        folder.Sync();
        hook?.Invoke("renamed");
        folder.Delete(JournalFileName);

        // Earlier versions kept a lock file and the cache here; the folder is depmod's alone now.
        // unlinkat removes a link itself, never what it points at.
        foreach (var leftover in LeftoverFileNames)
            folder.TryDelete(leftover);
        folder.Sync();
        timeline?.Mark("rename and fsync folder");
        WriteCache(cache, hook, timeline);
        return temps.ConvertAll(t => folder.PathOf(t.Target));
    }

    /// <summary>
    /// For files whose content is already what a run computed (<paramref name="reuse"/>): under the
    /// same lock, and only if every file still has the identity recorded, renews their time stamps
    /// (what a rewrite would have done for depmod -A and other readers), then writes
    /// the cache and the new record. False, with nothing changed, when a file
    /// differs: the caller then publishes the content it holds.
    /// </summary>
    public static bool Refresh(ContainedFolder folder, DepmodOutputRecord reuse, DepmodCacheWrites? cache,
        TimeSpan lockTimeout, Action<string>? hook, CancellationToken cancel, DepmodTimeline? timeline = null)
    {
        using var folderLock = folder.LockIndex(lockTimeout, cancel);
        hook?.Invoke("locked");
        Recover(folder);
        if (!reuse.FilesUnchanged(folder))
            return false;
        cancel.ThrowIfCancellationRequested();
        var now = DateTime.UtcNow;
        foreach (var (name, _) in reuse.Files)
            folder.SetLastWriteTimeUtc(name, now);
        hook?.Invoke("refreshed");
        timeline?.Mark("lock, check and renew time stamps");
        WriteCache(cache, hook, timeline);
        return true;
    }

    /// <summary>What earlier versions of this engine left in the output folder.</summary>
    private static readonly string[] LeftoverFileNames = ["modules.lkmpowershell.lock", "modules.lkmpowershell.cache"];

    /// <summary>
    /// Best effort: a cache or record that cannot be written means the next run reads the modules
    /// again. Both go to the cache folder, opened inside the root now (never a path checked earlier).
    /// </summary>
    private static void WriteCache(DepmodCacheWrites? cache, Action<string>? hook, DepmodTimeline? timeline)
    {
        if (cache is null)
            return;
        ContainedFolder folder;
        try
        {
            folder = cache.Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return;
        }
        using (folder)
        {
            try
            {
                if (cache.Save is not null)
                {
                    cache.Save(folder);
                    hook?.Invoke("cache");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
            timeline?.Mark("save cache");
            try
            {
                if (cache.Record?.Invoke() is { } record)
                {
                    WriteReplacing(folder, record.Name, record.Content, durable: false);
                    hook?.Invoke("record");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
            timeline?.Mark("output record");
        }
    }

    /// <summary>
    /// Replaces <paramref name="name"/> in <paramref name="folder"/> through a temporary and a rename;
    /// <paramref name="durable"/> false skips the fsyncs, for files that are checksummed (a loss or a
    /// tear is detected and only costs work).
    /// </summary>
    internal static void WriteReplacing(ContainedFolder folder, string name, ReadOnlySpan<byte> content, bool durable)
    {
        var created = new List<string>();
        try
        {
            using (var handle = folder.CreateTemporary(name, created))
            {
                folder.Write(handle, name, content);
                if (durable) folder.Flush(handle, name);
            }
            folder.Rename(created[0], name);
            created.Clear();
            if (durable) folder.Sync();
        }
        finally
        {
            foreach (var temp in created)
                folder.TryDelete(temp);
        }
    }

    /// <summary>The journal: one "temporary\ttarget" file name pair a line, made durable before any rename.</summary>
    private static void WriteJournal(ContainedFolder folder, List<(string Temp, string Target)> temps)
    {
        var text = new StringBuilder();
        foreach (var (temp, target) in temps)
            text.Append(temp).Append('\t').Append(target).Append('\n');
        WriteReplacing(folder, JournalFileName, Encoding.UTF8.GetBytes(text.ToString()), durable: true);
    }

    /// <summary>As <see cref="Recover(ContainedFolder)"/>, for a folder given by its path on this system (tests, tools).</summary>
    internal static void Recover(string directory)
    {
        using var folder = ContainedFolder.Open(SystemRoot.Host, directory) ?? throw new DirectoryNotFoundException($"{directory}: no such folder.");
        Recover(folder);
    }

    /// <summary>Completes a publication a crash interrupted, then removes temporaries nobody will use.</summary>
    internal static void Recover(ContainedFolder folder)
    {
        string[]? lines;
        try
        {
            // Bounded, never blocking, never through a link: a FIFO planted here hung the run.
            lines = folder.ReadFile(JournalFileName, FileLimits.TreeTextFile) is { } bytes ? Encoding.UTF8.GetString(bytes).Split('\n') : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lines = []; // not a journal this engine wrote (a FIFO, a link, a device): removed, nothing renamed
        }
        if (lines is not null)
        {
            foreach (var line in lines)
            {
                var parts = line.Split('\t');
                // Only plain file names of this folder: a damaged journal must not rename anything elsewhere.
                if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p.Contains('/') || p.Contains('\0') || p is "." or ".."))
                    continue;
                if (folder.Identity(parts[0]) is { IsRegularFile: true })
                    folder.Rename(parts[0], parts[1]);
            }
            folder.Sync();
            folder.Delete(JournalFileName);
        }
        // Under the lock no other run has temporaries here: any left are from a run that died.
        foreach (var name in folder.Names())
            if (name.StartsWith('.') && name.Contains(TempMarker, StringComparison.Ordinal) && name.EndsWith(".tmp", StringComparison.Ordinal))
                folder.TryDelete(name);
    }
}

/// <summary>
/// What a publication writes to the cache folder after the index files, best effort: the folder
/// (opened inside the root when needed), the cache, and the output record (a file name in that folder).
/// </summary>
internal sealed record DepmodCacheWrites(Func<ContainedFolder> Open, Action<ContainedFolder>? Save, Func<DepmodFile?>? Record);
