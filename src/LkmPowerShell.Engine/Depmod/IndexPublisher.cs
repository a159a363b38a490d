using System.Text;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// Puts a set of index files in place so that no reader ever sees a torn file, a failed or
/// cancelled run changes nothing, and a crash at any moment leaves every file either old or new,
/// with the set made whole again (all new) by the next run.
/// </summary>
/// <remarks>
/// The steps, under an exclusive flock on the output folder itself (so two runs publish one after
/// the other, never interleaved; no lock file is created, so there is none to plant as a symbolic
/// link and none left behind in a folder the package manager owns):
/// <list type="number">
/// <item>Finish a crashed run's publication if its journal is there; delete stale temporary files.</item>
/// <item>Write every file to a temporary file in the same folder (".name.lkmps-PID-RANDOM.tmp",
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
/// </remarks>
internal static class IndexPublisher
{
    public const string JournalFileName = "modules.lkmpowershell.journal";
    private const string TempMarker = ".lkmps-";

    /// <summary>Publishes <paramref name="files"/> into <paramref name="directory"/>, then, best effort, saves the cache with <paramref name="saveCache"/>.</summary>
    /// <returns>The full paths of the files published, in order.</returns>
    /// <remarks><paramref name="record"/> is called under the lock once the files are in place; what it returns is written beside, best effort, after the cache.</remarks>
    public static List<string> Publish(string directory, IReadOnlyList<DepmodFile> files, Action? saveCache,
        TimeSpan lockTimeout, Action<string>? hook, CancellationToken cancel, Func<DepmodFile?>? record = null,
        DepmodTimeline? timeline = null)
    {
        Directory.CreateDirectory(directory);
        using var folderLock = FolderLock.Acquire(directory, lockTimeout, cancel);
        hook?.Invoke("locked");
        Recover(directory);
        timeline?.Mark("lock and recover");

        var temps = new List<(string Temp, string Target)>();
        var created = new List<string>();
        var committed = false;
        try
        {
            var streams = new List<FileStream>(files.Count);
            try
            {
                foreach (var file in files)
                {
                    cancel.ThrowIfCancellationRequested();
                    hook?.Invoke("write:" + file.Name);
                    var (temp, stream) = CreateTemporary(directory, file.Name, file.Content.Length, created);
                    streams.Add(stream);
                    stream.Write(file.Content);
                    stream.Flush(flushToDisk: false);
                    temps.Add((temp, Path.Join(directory, file.Name)));
                }
                // Durable before the commit. Writeback of every file is started first, so the
                // file system allocates them all and the first fsync's journal commit covers them
                // all: one commit instead of one per file.
                foreach (var stream in streams)
                    NativeFile.StartWriteback(stream.SafeFileHandle);
                foreach (var stream in streams)
                    stream.Flush(flushToDisk: true);
            }
            finally
            {
                foreach (var stream in streams)
                    stream.Dispose();
            }
            cancel.ThrowIfCancellationRequested();
            timeline?.Mark("write and fsync temporaries");
            hook?.Invoke("commit");
            WriteJournal(directory, temps);
            committed = true;
            timeline?.Mark("journal");
        }
        finally
        {
            if (!committed)
                foreach (var temp in created)
                    TryDelete(temp);
        }

        // Past the commit point: finish even when cancelled. An exception here (a crash) leaves
        // the journal for the next run to complete.
        foreach (var (temp, target) in temps)
        {
            hook?.Invoke("rename:" + Path.GetFileName(target));
            File.Move(temp, target, overwrite: true);
        }
        NativeFile.SyncDirectory(directory);
        hook?.Invoke("renamed");
        File.Delete(Path.Join(directory, JournalFileName));

        // Earlier versions kept a lock file and the cache here; the folder is depmod's alone now.
        // File.Delete removes a link itself, never what it points at.
        foreach (var leftover in LeftoverFileNames)
            TryDelete(Path.Join(directory, leftover));
        NativeFile.SyncDirectory(directory);
        timeline?.Mark("rename and fsync folder");
        SaveCache(saveCache, hook);
        timeline?.Mark("save cache");
        if (record?.Invoke() is { } recordFile)
            WriteBeside(recordFile, hook);
        timeline?.Mark("output record");
        return temps.ConvertAll(t => t.Target);
    }

    /// <summary>
    /// For files whose content is already what a run computed (<paramref name="reuse"/>): under the
    /// same lock, and only if every file still has the identity recorded, renews their time stamps
    /// (what a rewrite would have done for depmod -A and other readers), then writes
    /// the cache and the new record. False, with nothing changed, when a file
    /// differs: the caller then publishes the content it holds.
    /// </summary>
    public static bool Refresh(string directory, DepmodOutputRecord reuse, Action? saveCache, Func<DepmodFile?>? record,
        TimeSpan lockTimeout, Action<string>? hook, CancellationToken cancel, DepmodTimeline? timeline = null)
    {
        if (!Directory.Exists(directory))
            return false;
        using var folderLock = FolderLock.Acquire(directory, lockTimeout, cancel);
        hook?.Invoke("locked");
        Recover(directory);
        if (!reuse.FilesUnchanged(directory))
            return false;
        cancel.ThrowIfCancellationRequested();
        var now = DateTime.UtcNow;
        foreach (var (name, _) in reuse.Files)
            File.SetLastWriteTimeUtc(Path.Join(directory, name), now);
        hook?.Invoke("refreshed");
        timeline?.Mark("lock, check and renew time stamps");
        SaveCache(saveCache, hook);
        timeline?.Mark("save cache");
        if (record?.Invoke() is { } recordFile)
            WriteBeside(recordFile, hook);
        timeline?.Mark("output record");
        return true;
    }

    /// <summary>What earlier versions of this engine left in the output folder.</summary>
    private static readonly string[] LeftoverFileNames = ["modules.lkmpowershell.lock", "modules.lkmpowershell.cache"];

    /// <summary>Best effort: a cache that cannot be saved means the next run reads the modules again.</summary>
    private static void SaveCache(Action? saveCache, Action<string>? hook)
    {
        if (saveCache is null)
            return;
        try
        {
            saveCache();
            hook?.Invoke("cache");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Best effort, for the record: writes <paramref name="file"/> (its name is a full
    /// path) through a temporary file and a rename, without fsync: both are checksummed, so one
    /// lost or torn by a crash is detected, and a failure only means the next run does more work.
    /// </summary>
    private static void WriteBeside(DepmodFile file, Action<string>? hook)
    {
        var directory = Path.GetDirectoryName(file.Name)!;
        var temps = new List<string>();
        try
        {
            Directory.CreateDirectory(directory);
            var temp = WriteTemporary(directory, Path.GetFileName(file.Name), file.Content, temps, durable: false);
            File.Move(temp, file.Name, overwrite: true);
            hook?.Invoke("record");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var temp in temps) TryDelete(temp);
        }
    }

    /// <summary>Writes and fsyncs a new temporary file; its path goes into <paramref name="created"/> as soon as it exists.</summary>
    private static string WriteTemporary(string directory, string name, byte[] content, List<string> created, bool durable = true)
    {
        var (temp, stream) = CreateTemporary(directory, name, content.Length, created);
        using (stream)
        {
            stream.Write(content);
            stream.Flush(flushToDisk: durable);
        }
        return temp;
    }

    /// <summary>A new temporary file, open for writing; its path goes into <paramref name="created"/> as soon as it exists.</summary>
    private static (string Path, FileStream Stream) CreateTemporary(string directory, string name, long length, List<string> created)
    {
        var temp = Path.Join(directory, $".{name}{TempMarker}{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        var stream = new FileStream(temp, CreateOptions(FileMode.CreateNew, FileAccess.Write, length));
        created.Add(temp);
        return (temp, stream);
    }

    /// <summary>Exclusive access; new files get mode 0644 (less the umask), as kmod creates its files.</summary>
    private static FileStreamOptions CreateOptions(FileMode mode, FileAccess access, long preallocate)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = FileShare.None, PreallocationSize = preallocate };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        return options;
    }

    /// <summary>The journal: one "temporary\ttarget" file name pair a line, made durable before any rename.</summary>
    private static void WriteJournal(string directory, List<(string Temp, string Target)> temps)
    {
        var text = new StringBuilder();
        foreach (var (temp, target) in temps)
            text.Append(Path.GetFileName(temp)).Append('\t').Append(Path.GetFileName(target)).Append('\n');
        var journalTemps = new List<string>();
        var journalTemp = WriteTemporary(directory, JournalFileName, Encoding.UTF8.GetBytes(text.ToString()), journalTemps);
        File.Move(journalTemp, Path.Join(directory, JournalFileName), overwrite: true);
        NativeFile.SyncDirectory(directory);
    }

    /// <summary>Completes a publication a crash interrupted, then removes temporaries nobody will use.</summary>
    internal static void Recover(string directory)
    {
        var journal = Path.Join(directory, JournalFileName);
        string[]? lines;
        try
        {
            // Bounded, never blocking, never through a link: a FIFO planted here hung the run.
            lines = Encoding.UTF8.GetString(Files.SafeFile.ReadAll(journal, Files.FileLimits.TreeTextFile, followLinks: false)).Split('\n');
        }
        catch (FileNotFoundException)
        {
            lines = null;
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
                if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p.Contains('/') || p is "." or ".."))
                    continue;
                var temp = Path.Join(directory, parts[0]);
                if (File.Exists(temp))
                    File.Move(temp, Path.Join(directory, parts[1]), overwrite: true);
            }
            NativeFile.SyncDirectory(directory);
            File.Delete(journal);
        }
        // Under the lock no other run has temporaries here: any left are from a run that died.
        foreach (var stale in Directory.EnumerateFiles(directory, "." + "*" + TempMarker + "*.tmp"))
            TryDelete(stale);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
