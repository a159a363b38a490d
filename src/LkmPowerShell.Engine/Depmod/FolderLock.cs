using System.Runtime.InteropServices;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// An exclusive flock on a folder itself. Nothing is created or opened for writing, so a planted
/// symbolic link cannot redirect it, and the folder holds only what depmod writes. The lock goes
/// with the process if it dies.
/// </summary>
internal sealed partial class FolderLock : IDisposable
{
    private const int OCloExec = 0x80000;
    private const int LockEx = 2, LockNb = 4;
    private const int EWouldBlock = 11, EIntr = 4;

    private readonly int _fd;

    private FolderLock(int fd) => _fd = fd;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>Waits up to <paramref name="timeout"/> for the lock.</summary>
    /// <exception cref="TimeoutException">Another run held it for the whole time.</exception>
    public static FolderLock Acquire(string directory, TimeSpan timeout, CancellationToken cancel)
    {
        // O_RDONLY opens a folder; O_DIRECTORY's value differs between architectures and is not needed.
        var fd = Open(directory, OCloExec);
        if (fd < 0)
            throw OpenFailure(directory, Marshal.GetLastPInvokeError());
        return Wait(fd, directory, timeout, cancel, null);
    }

    /// <summary>
    /// Locks a folder already held open (a <see cref="Files.ContainedFolder"/>): a new open file
    /// description of "." relative to it, so no path is looked up again and the lock ends when this
    /// object is disposed, whatever else holds the folder open.
    /// </summary>
    /// <remarks><paramref name="busy"/> words the timeout's message for other writers than depmod (null: depmod's own).</remarks>
    /// <exception cref="TimeoutException">Another run held it for the whole time.</exception>
    public static FolderLock Acquire(Microsoft.Win32.SafeHandles.SafeFileHandle folder, string directory, TimeSpan timeout, CancellationToken cancel, string? busy)
    {
        var fd = OpenAt((int)folder.DangerousGetHandle(), ".", OCloExec);
        if (fd < 0)
            throw OpenFailure(directory, Marshal.GetLastPInvokeError());
        return Wait(fd, directory, timeout, cancel, busy);
    }

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAt(int dirfd, string path, int flags);

    private static Exception OpenFailure(string directory, int errno) => errno is 13 or 1
        ? new UnauthorizedAccessException($"{directory}: permission denied opening the folder to lock it.")
        : new IOException($"{directory}: cannot be opened to lock it: {Marshal.GetPInvokeErrorMessage(errno)}.", errno);

    /// <summary>Takes the lock on <paramref name="fd"/> (which this object then owns), polling until the deadline.</summary>
    private static FolderLock Wait(int fd, string directory, TimeSpan timeout, CancellationToken cancel, string? busy)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Flock(fd, LockEx | LockNb) == 0)
                return new FolderLock(fd);
            var errno = Marshal.GetLastPInvokeError();
            if (errno is not (EWouldBlock or EIntr))
            {
                Close(fd);
                throw new IOException($"{directory}: cannot be locked: {Marshal.GetPInvokeErrorMessage(errno)}.", errno);
            }
            if (DateTime.UtcNow >= deadline)
            {
                Close(fd);
                throw new TimeoutException(busy is null
                    ? $"Another run is writing the module index in {directory} (it holds a lock on the folder); waited {timeout.TotalSeconds:0} s. Wait for it to finish, or stop it, and run again."
                    : $"{busy} (it holds a lock on {directory}); waited {timeout.TotalSeconds:0} s. Wait for it to finish, or stop it, and run again.");
            }
            if (cancel.WaitHandle.WaitOne(50))
            {
                Close(fd);
                cancel.ThrowIfCancellationRequested();
            }
        }
    }

    public void Dispose() => Close(_fd);
}
