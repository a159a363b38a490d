using System.Text;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// Puts a set of index files in place so that no reader ever sees a torn file, a failed or
/// cancelled run changes nothing, and a crash at any moment leaves every file either old or new,
/// with the set made whole again (all new) by the next run.
/// </summary>
/// <remarks>
/// The steps, under an exclusive lock on <see cref="LockFileName"/> (flock, so two runs publish
/// one after the other, never interleaved):
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
    public const string LockFileName = "modules.lkmpowershell.lock";
    public const string JournalFileName = "modules.lkmpowershell.journal";
    private const string TempMarker = ".lkmps-";

    /// <summary>Publishes <paramref name="files"/> (and then, best effort, <paramref name="extra"/>) into <paramref name="directory"/>.</summary>
    /// <returns>The full paths of the files published, in order.</returns>
    public static List<string> Publish(string directory, IReadOnlyList<DepmodFile> files, DepmodFile? extra,
        TimeSpan lockTimeout, Action<string>? hook, CancellationToken cancel)
    {
        Directory.CreateDirectory(directory);
        using var lockFile = AcquireLock(Path.Join(directory, LockFileName), lockTimeout, cancel);
        hook?.Invoke("locked");
        Recover(directory);

        var temps = new List<(string Temp, string Target)>();
        var created = new List<string>();
        var committed = false;
        try
        {
            foreach (var file in files)
            {
                cancel.ThrowIfCancellationRequested();
                hook?.Invoke("write:" + file.Name);
                var temp = WriteTemporary(directory, file.Name, file.Content, created);
                temps.Add((temp, Path.Join(directory, file.Name)));
            }
            cancel.ThrowIfCancellationRequested();
            hook?.Invoke("commit");
            WriteJournal(directory, temps);
            committed = true;
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

        if (extra is not null)
        {
            var extraTemps = new List<string>();
            try
            {
                var temp = WriteTemporary(directory, extra.Name, extra.Content, extraTemps);
                File.Move(temp, Path.Join(directory, extra.Name), overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                foreach (var temp in extraTemps) TryDelete(temp);
                // Only a cache: the next run reads the modules again.
            }
        }
        NativeFile.SyncDirectory(directory);
        return temps.ConvertAll(t => t.Target);
    }

    /// <summary>
    /// Waits for the lock. .NET takes FileShare.None as flock(LOCK_EX | LOCK_NB) on Linux, so a second
    /// run fails to open until the first closes; the lock goes with the process if it dies.
    /// </summary>
    private static FileStream AcquireLock(string path, TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path, CreateOptions(FileMode.OpenOrCreate, FileAccess.ReadWrite, 0));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                cancel.WaitHandle.WaitOne(50);
                cancel.ThrowIfCancellationRequested();
            }
            catch (IOException e)
            {
                throw new IOException($"Another run is writing the module index in {Path.GetDirectoryName(path)} (it holds {path}); waited {timeout.TotalSeconds:0} s.", e);
            }
        }
    }

    /// <summary>Writes and fsyncs a new temporary file; its path goes into <paramref name="created"/> as soon as it exists.</summary>
    private static string WriteTemporary(string directory, string name, byte[] content, List<string> created)
    {
        var temp = Path.Join(directory, $".{name}{TempMarker}{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        using var stream = new FileStream(temp, CreateOptions(FileMode.CreateNew, FileAccess.Write, content.Length));
        created.Add(temp);
        stream.Write(content);
        stream.Flush(flushToDisk: true);
        return temp;
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
        if (File.Exists(journal))
        {
            foreach (var line in File.ReadAllLines(journal))
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
