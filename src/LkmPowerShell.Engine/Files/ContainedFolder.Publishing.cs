using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Files;

/// <summary>
/// The steps of a publication that writes many files as one set (depmod's index files, its cache):
/// temporaries created and written first, made durable together, then renamed one by one, all
/// relative to the held folder. <see cref="WriteAtomic"/> is the one-file form of the same.
/// </summary>
internal sealed partial class ContainedFolder
{
    private const int OAppend = 0x400;
    private const int AtSymlinkNoFollow = 0x100, AtEAccess = 0x200;
    private const int WOk = 2, XOk = 1;

    /// <summary>
    /// Fails at once, naming the folder, when this process cannot create files in it (no write or
    /// search permission, a read-only file system): the check before a long computation whose
    /// result would only be refused at the end.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">Permission denied.</exception>
    /// <exception cref="IOException">Read-only file system, or another error.</exception>
    public void CheckWritable()
    {
        if (FAccessAt(Fd, ".", WOk | XOk, AtEAccess) != 0)
            throw Failure(Path, Marshal.GetLastPInvokeError(), "cannot be written to (no file can be created in it)");
    }

    /// <summary>
    /// A new temporary for <paramref name="name"/> in this folder (O_CREAT|O_EXCL|O_NOFOLLOW, mode
    /// 0644 whatever the umask), open to write; its name goes into <paramref name="created"/> as soon
    /// as it exists. Errors name the target, never the temporary.
    /// </summary>
    internal SafeFileHandle CreateTemporary(string name, List<string> created)
    {
        CheckName(name);
        var temp = $".{name}{TempMarker}{Guid.NewGuid():N}.tmp";
        var fd = OpenAt(Fd, temp, OWrOnly | OCreat | OExcl | ONoFollow | OCloExec, FileMode);
        if (fd < 0)
            throw Failure(PathOf(name), Marshal.GetLastPInvokeError(), "cannot be written");
        created.Add(temp);
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (FChmod(fd, FileMode) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw Failure(PathOf(name), errno, "cannot be written");
        }
        return handle;
    }

    /// <summary>Writes all of <paramref name="content"/> at <paramref name="offset"/> of a file of this folder; errors name <paramref name="name"/>, the target.</summary>
    internal void Write(SafeFileHandle handle, string name, ReadOnlySpan<byte> content, long offset = 0)
    {
        try
        {
            RandomAccess.Write(handle, content, offset);
        }
        catch (IOException e)
        {
            throw new IOException($"{PathOf(name)}: cannot be written: {e.Message}", e);
        }
    }

    /// <summary>fsync of a file of this folder; errors name <paramref name="name"/>.</summary>
    internal void Flush(SafeFileHandle handle, string name)
    {
        if (Fsync((int)handle.DangerousGetHandle()) != 0)
            throw Failure(PathOf(name), Marshal.GetLastPInvokeError(), "cannot be written to disk");
    }

    /// <summary>Renames an entry over another, both in this folder (renameat, atomic); errors name <paramref name="target"/>.</summary>
    internal void Rename(string from, string target)
    {
        CheckName(from);
        CheckName(target);
        if (RenameAt(Fd, from, Fd, target) != 0)
            throw Failure(PathOf(target), Marshal.GetLastPInvokeError(), "cannot be replaced");
    }

    /// <summary>Deletes an entry without syncing the folder, ignoring every failure (litter, best effort).</summary>
    internal void TryDelete(string name)
    {
        if (name.Length > 0 && !name.Contains('/') && name is not "." and not "..")
            UnlinkAt(Fd, name, 0);
    }

    /// <summary>Sets an entry's access and modification times, never through a link (utimensat, AT_SYMLINK_NOFOLLOW).</summary>
    internal unsafe void SetLastWriteTimeUtc(string name, DateTime utc)
    {
        CheckName(name);
        var ticks = utc.ToUniversalTime() - DateTime.UnixEpoch;
        var seconds = (long)Math.Floor(ticks.TotalSeconds);
        var nanoseconds = (ticks.Ticks - seconds * TimeSpan.TicksPerSecond) * 100;
        var times = stackalloc long[4] { seconds, nanoseconds, seconds, nanoseconds };
        if (UtimensAt(Fd, name, times, AtSymlinkNoFollow) != 0)
            throw Failure(PathOf(name), Marshal.GetLastPInvokeError(), "cannot have its time stamp set");
    }

    /// <summary>An existing regular file of this folder opened to append, never through a link; null when there is none.</summary>
    internal SafeFileHandle? OpenAppend(string name)
    {
        CheckName(name);
        var fd = OpenAt(Fd, name, OWrOnly | OAppend | ONoFollow | OCloExec, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == ENOENT ? null : throw Failure(PathOf(name), errno, "cannot be opened to append");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (SafeFile.FileType(handle, PathOf(name)) != 0x8000)
        {
            handle.Dispose();
            throw new FileRefusedException(PathOf(name), FileRefusal.NotRegularFile, $"{PathOf(name)}: is not a regular file; nothing was appended.");
        }
        return handle;
    }

    /// <summary>The identity (device, inode, size, times) of an entry, not following a link; null when there is none.</summary>
    internal Depmod.FileIdentity? Identity(string name)
    {
        CheckName(name);
        var fd = OpenAt(Fd, name, OPath | OCloExec | ONoFollow, 0);
        if (fd < 0)
            return null;
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        return Depmod.NativeFile.Stat(handle);
    }

    /// <summary>The folder's lock with depmod's own message when another run holds it.</summary>
    internal IDisposable LockIndex(TimeSpan timeout, CancellationToken cancel) =>
        Depmod.FolderLock.Acquire(_handle, Path, timeout, cancel, busy: null);

    [LibraryImport("libc", EntryPoint = "faccessat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FAccessAt(int dirfd, string path, int mode, int flags);

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int UtimensAt(int dirfd, string path, long* times, int flags);
}
