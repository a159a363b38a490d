using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Files;

/// <summary>
/// A folder under a <see cref="SystemRoot"/>, resolved inside the root once and then held open, so
/// that every file of it is read, created, renamed, deleted, locked and synced relative to that
/// descriptor (openat, renameat, unlinkat, flock, fsync), as kmod's depmod works in its output
/// folder. A path string checked once and used later is a race, and a plain .NET File.* call on a
/// path built from the root follows links out of it; this class is the one way the engine writes
/// under a root (and reads the files it keeps there).
/// </summary>
/// <remarks>
/// <para>Resolution is the readers' own (<see cref="SafeFile"/>: openat2 RESOLVE_IN_ROOT, or the
/// user-space walk on older kernels), so a folder written is the folder read: a link at
/// <c>ROOT/etc/modprobe.d</c> (absolute, relative, through "..") is followed as if chrooted, never
/// out of the root. Files inside are single names, never followed when they are links
/// (O_NOFOLLOW), regular files only, read within a <see cref="FileLimit"/>, and created with
/// O_CREAT|O_EXCL (mode 0644).</para>
/// <para>A read-modify-write holds <see cref="Lock"/> for its whole length and reads again under it;
/// <see cref="WriteAtomic"/> leaves a temporary only if the process dies between create and rename,
/// and <see cref="RemoveTemporaries"/> (under the lock) deletes what such a death left.</para>
/// </remarks>
internal sealed partial class ContainedFolder : IDisposable
{
    private const int ORdOnly = 0, OWrOnly = 0x1, OCreat = 0x40, OExcl = 0x80, OCloExec = 0x80000;
    private static readonly bool Arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;
    private static readonly int ONoFollow = Arm ? 0x8000 : 0x20000;
    private static readonly int ODirectory = Arm ? 0x4000 : 0x10000;
    private const int OPath = 0x200000;
    private const int ENOENT = 2, EEXIST = 17, EACCES = 13, EPERM = 1, EROFS = 30, EISDIR = 21, EINTR = 4;
    private const uint FileMode = 0x1A4; // 0644, as kmod creates its files and modprobe.d files are
    private const uint FolderMode = 0x1ED; // 0755

    /// <summary>What marks a temporary of this class: ".NAME.lkmps-GUID.tmp".</summary>
    private const string TempMarker = ".lkmps-";

    /// <summary>Ours: this class's temporaries, and those of the AtomicFile of earlier versions (".NAME.conf.GUID.tmp").</summary>
    [GeneratedRegex(@"^\..+(\.lkmps-|\.conf\.)[0-9a-f]{32}\.tmp$")]
    private static partial Regex TemporaryName();

    private readonly SafeFileHandle _handle;

    private ContainedFolder(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    /// <summary>The folder as the user knows it (the root's folder joined with the system path): what errors and remedies name.</summary>
    public string Path { get; }

    /// <summary>A file of this folder as the user knows it.</summary>
    public string PathOf(string name) => System.IO.Path.Join(Path, name);

    /// <summary>
    /// Opens <paramref name="systemPath"/> (an absolute path such as "/etc/modprobe.d") inside
    /// <paramref name="root"/>; null when it does not exist.
    /// </summary>
    /// <exception cref="IOException">It is not a folder, or a link loop (<see cref="FileRefusedException"/>).</exception>
    /// <exception cref="UnauthorizedAccessException">Permission denied.</exception>
    public static ContainedFolder? Open(SystemRoot root, string systemPath)
    {
        ArgumentNullException.ThrowIfNull(root);
        var display = systemPath.Trim('/').Length == 0 ? root.Path : root.Resolve(systemPath);
        SafeFileHandle named;
        try
        {
            named = SafeFile.NameFolder(display, root.IsHost ? null : root);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        using (named)
            return Reopen(named, display);
    }

    /// <summary>As <see cref="Open"/>, creating the folder (and its missing parents, each inside the root, mode 0755) when it does not exist.</summary>
    public static ContainedFolder OpenOrCreate(SystemRoot root, string systemPath)
    {
        if (Open(root, systemPath) is { } existing)
            return existing;
        var trimmed = systemPath.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        var name = trimmed[(slash + 1)..];
        if (slash < 0 || name is "" or "." or "..")
            throw new DirectoryNotFoundException($"{root.Resolve(systemPath)}: no such folder.");
        using var parent = OpenOrCreate(root, slash == 0 ? "/" : trimmed[..slash]);
        if (MkdirAt(parent.Fd, name, FolderMode) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != EEXIST)
            throw Failure(parent.PathOf(name), errno, "cannot be created");
        // O_NOFOLLOW: what now stands there (made by us or by a racing writer) must be a folder, not a link to one.
        var fd = OpenAt(parent.Fd, name, OPath | OCloExec | ONoFollow, 0);
        if (fd < 0)
            throw Failure(parent.PathOf(name), Marshal.GetLastPInvokeError(), "cannot be opened");
        using var named = new SafeFileHandle(fd, ownsHandle: true);
        return Reopen(named, parent.PathOf(name));
    }

    /// <summary>A folder named with O_PATH, opened to read (".", relative to it: no path looked up again).</summary>
    private static ContainedFolder Reopen(SafeFileHandle named, string display)
    {
        var type = SafeFile.FileType(named, display);
        if (type != 0x4000)
            throw new FileRefusedException(display, FileRefusal.NotRegularFile, $"{display}: is {SafeFile.Describe(type)}, not a folder; nothing was read or written there.");
        var fd = OpenAt((int)named.DangerousGetHandle(), ".", ORdOnly | ODirectory | OCloExec, 0);
        if (fd < 0)
            throw Failure(display, Marshal.GetLastPInvokeError(), "cannot be opened");
        return new ContainedFolder(new SafeFileHandle(fd, ownsHandle: true), display);
    }

    private int Fd => (int)_handle.DangerousGetHandle();

    /// <summary>
    /// An exclusive lock on the folder (flock, released on dispose or when the process dies) for a
    /// whole read-modify-write: read again under it, since another writer may have changed the file.
    /// </summary>
    /// <remarks><paramref name="busy"/>: what the other holder is doing, for the timeout's message ("Another run is changing X").</remarks>
    /// <exception cref="TimeoutException">Another process held it for the whole <paramref name="timeout"/>.</exception>
    public IDisposable Lock(TimeSpan timeout, string busy, CancellationToken cancel = default) =>
        Depmod.FolderLock.Acquire(_handle, Path, timeout, cancel, busy);

    /// <summary>Whether an entry of that name exists (a link counts, itself; it is not followed).</summary>
    public bool Contains(string name)
    {
        CheckName(name);
        var fd = OpenAt(Fd, name, OPath | OCloExec | ONoFollow, 0);
        if (fd >= 0)
        {
            Close(fd);
            return true;
        }
        var errno = Marshal.GetLastPInvokeError();
        return errno == ENOENT ? false : throw Failure(PathOf(name), errno, "cannot be looked up");
    }

    /// <summary>The whole file, or null when there is none; never through a link, regular files only, at most <paramref name="limit"/>.</summary>
    /// <exception cref="FileRefusedException">A link, FIFO, device or folder in its place, or too big.</exception>
    public byte[]? ReadFile(string name, FileLimit limit)
    {
        SafeFileHandle handle;
        long size;
        try
        {
            handle = SafeFile.OpenAt(_handle, name, limit, PathOf(name), out size);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        using (handle)
            return SafeFile.ReadAll(handle, size, PathOf(name), limit);
    }

    /// <summary>
    /// Opens an existing regular file of the folder to read (or, with <paramref name="write"/>, to
    /// write in place: a sysfs attribute), never through a link.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="FileRefusedException">A link, FIFO, device or folder in its place, or too big.</exception>
    public SafeFileHandle OpenFile(string name, FileLimit limit, bool write, out long size) =>
        SafeFile.OpenAt(_handle, name, limit, PathOf(name), out size, write);

    /// <summary>The permission bits (0777 and above) of an entry, not following a link; null when there is none.</summary>
    public uint? Permissions(string name)
    {
        CheckName(name);
        var fd = OpenAt(Fd, name, OPath | OCloExec | ONoFollow, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == ENOENT ? null : throw Failure(PathOf(name), errno, "cannot be looked up");
        }
        using var named = new SafeFileHandle(fd, ownsHandle: true);
        return SafeFile.Permissions(named, PathOf(name));
    }

    /// <summary>The names in the folder ("." and ".." left out), in directory order.</summary>
    public IReadOnlyList<string> Names()
    {
        // Listed through this process's own descriptor: no path under the root is looked up again.
        var self = $"/proc/self/fd/{Fd}";
        try
        {
            return [.. Directory.EnumerateFileSystemEntries(self).Select(e => System.IO.Path.GetFileName(e))];
        }
        catch (DirectoryNotFoundException)
        {
            return []; // no /proc mounted
        }
    }

    /// <summary>
    /// Replaces (or creates) <paramref name="name"/> with <paramref name="content"/> so that readers
    /// and a crash see the old file or the new one, never half: a temporary created in this folder
    /// (O_EXCL, O_NOFOLLOW, mode 0644), written and fsynced, renamed over the name, then the folder
    /// fsynced so the rename survives a power cut. A failure removes the temporary; errors name the
    /// target, never the temporary.
    /// </summary>
    public void WriteAtomic(string name, ReadOnlySpan<byte> content)
    {
        CheckName(name);
        var target = PathOf(name);
        var temp = $".{name}{TempMarker}{Guid.NewGuid():N}.tmp";
        var fd = OpenAt(Fd, temp, OWrOnly | OCreat | OExcl | ONoFollow | OCloExec, FileMode);
        if (fd < 0)
            throw Failure(target, Marshal.GetLastPInvokeError(), "cannot be written");
        var renamed = false;
        try
        {
            using (var handle = new SafeFileHandle(fd, ownsHandle: true))
            {
                try
                {
                    RandomAccess.Write(handle, content, 0);
                }
                catch (IOException e)
                {
                    throw new IOException($"{target}: cannot be written: {e.Message}", e);
                }
                // The umask may have taken bits away; every reader (modprobe as any user) needs 0644.
                if (FChmod(fd, FileMode) != 0 || Fsync(fd) != 0)
                    throw Failure(target, Marshal.GetLastPInvokeError(), "cannot be written");
            }
            if (RenameAt(Fd, temp, Fd, name) != 0)
                throw Failure(target, Marshal.GetLastPInvokeError(), "cannot be replaced");
            renamed = true;
        }
        finally
        {
            if (!renamed)
                UnlinkAt(Fd, temp, 0);
        }
        Sync();
    }

    /// <summary>Deletes the entry (a link itself, never what it points at); false when there was none.</summary>
    public bool Delete(string name)
    {
        CheckName(name);
        if (UnlinkAt(Fd, name, 0) == 0)
        {
            Sync();
            return true;
        }
        var errno = Marshal.GetLastPInvokeError();
        return errno == ENOENT ? false : throw Failure(PathOf(name), errno, "cannot be deleted");
    }

    /// <summary>
    /// Deletes the temporaries a writer killed between create and rename left here. Call it under
    /// <see cref="Lock"/>: every writer of the project holds the lock while its temporary exists, so
    /// any found then is litter. Best effort; returns how many were deleted.
    /// </summary>
    public int RemoveTemporaries()
    {
        var removed = 0;
        foreach (var name in Names())
            if (TemporaryName().IsMatch(name) && UnlinkAt(Fd, name, 0) == 0)
                removed++;
        if (removed > 0)
            Sync();
        return removed;
    }

    /// <summary>Makes the folder's entries (renames, deletions) durable. Best effort: some file systems cannot sync a folder.</summary>
    public void Sync() => Fsync(Fd);

    public void Dispose() => _handle.Dispose();

    public override string ToString() => Path;

    private static void CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        SafeFile.RejectNul(name);
        if (name.Length == 0 || name.Contains('/') || name is "." or "..")
            throw new ArgumentException($"'{name}' is not a file name.", nameof(name));
    }

    private static Exception Failure(string path, int errno, string what) => errno switch
    {
        EACCES or EPERM => new UnauthorizedAccessException($"{path}: permission denied; it {what}."),
        EROFS => new IOException($"{path}: {what}: the file system is read-only.", errno),
        EISDIR => new IOException($"{path}: is a folder; it {what}.", errno),
        40 => new FileRefusedException(path, FileRefusal.SymbolicLinkLoop, $"{path}: too many levels of symbolic links (a loop, or a link that points at itself)."),
        _ => new IOException($"{path}: {what}: {Marshal.GetPInvokeErrorMessage(errno)}.", errno),
    };

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAt(int dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkdirAt(int dirfd, string path, uint mode);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt(int olddirfd, string oldpath, int newdirfd, string newpath);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkAt(int dirfd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int FChmod(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
