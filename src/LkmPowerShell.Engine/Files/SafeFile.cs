using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Files;

/// <summary>
/// The one way the engine opens a file to read it. Opening never blocks (O_NONBLOCK: a FIFO with
/// no writer would hang a plain open or read forever); anything but a regular file is refused
/// (procfs and sysfs files are regular files, of size 0 or 4096, so they pass and are read up to
/// their limit); a file bigger than its <see cref="FileLimit"/> is refused before it is read.
/// A path that came from a file under a <see cref="SystemRoot"/> is resolved inside that root as
/// if chrooted: absolute paths, "..", and symbolic links (absolute or relative) never leave it.
/// That is openat2(RESOLVE_IN_ROOT) on Linux 5.6 and later, and an equivalent walk before that.
/// </summary>
/// <summary>A regular file's size and the time it was last written (UTC), from one statx.</summary>
public readonly record struct FileStamp(long Size, DateTime LastWriteTimeUtc);

internal static unsafe partial class SafeFile
{
    private const int ORdOnly = 0;
    private const int ONoCtty = 0x100;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;
    private const int OPath = 0x200000;
    private static readonly int ONoFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
    private static readonly int ReadFlags = ORdOnly | ONonBlock | OCloExec | ONoCtty;

    private const long SysOpenat2 = 437; // the same number on every architecture (the unified syscall table)
    private const ulong ResolveNoMagicLinks = 0x02;
    private const ulong ResolveInRoot = 0x10;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1, StatxMtime = 0x40, StatxSize = 0x200;
    private const int MaxSymbolicLinks = 40; // the kernel's MAXSYMLINKS

    private const int ENOENT = 2, ENXIO = 6, EACCES = 13, EPERM = 1, ENOTDIR = 20, ENOSYS = 38, ELOOP = 40, E2BIG = 7;

    /// <summary>Tests set this to exercise the walk that stands in for openat2 on older kernels.</summary>
    internal static bool ForceUserSpaceResolution { get; set; }

    private static volatile bool _openat2Missing;

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Openat2(long number, int dirfd, string path, OpenHow* how, nuint size);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAtNative(int dirfd, string path, int flags);

    /// <summary>
    /// Opens <paramref name="path"/> for reading: a regular file of at most
    /// <paramref name="limit"/> bytes. With a non-host <paramref name="within"/>, the path is
    /// resolved inside that root (a path under the root's folder, or an absolute path as the
    /// image itself would see it).
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file (inside the root).</exception>
    /// <exception cref="UnauthorizedAccessException">Permission denied.</exception>
    /// <exception cref="FileRefusedException">Not a regular file, too big, or a symbolic-link loop.</exception>
    /// <exception cref="IOException">Any other failure, with the system's message.</exception>
    /// <remarks>With <paramref name="followLinks"/> false (the engine's own files: depmod's cache), a
    /// symbolic link in the last component was planted, and is refused rather than followed out of the tree.</remarks>
    public static SafeFileHandle Open(string path, FileLimit limit, SystemRoot? within, out long size, bool followLinks = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(limit);
        RejectNul(path);
        // Found attacking the listing: a device node was opened (then refused), and opening a device
        // acts (a watchdog starts, a tape rewinds on close), so a hostile image could trigger it. The
        // path is opened with O_PATH first, which only names the file, and opened to read only once
        // it is known to be a regular file, through that very descriptor (/proc/self/fd).
        using var named = new SafeFileHandle(OpenNamed(path, within, followLinks, PathFlags), ownsHandle: true);
        var length = Check(named, path, limit).Size;
        var fd = OpenNative($"/proc/self/fd/{(int)named.DangerousGetHandle()}", ReadFlags);
        var reopened = fd >= 0;
        if (!reopened)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is not (ENOENT or ENOTDIR))
                throw Failure(path, errno);
            fd = OpenNamed(path, within, followLinks, ReadFlags); // no /proc mounted: opened by its path again, and checked again below
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            size = reopened ? length : Check(handle, path, limit).Size;
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// What <see cref="Open"/> does, for a file of a folder held open (<see cref="ContainedFolder"/>):
    /// <paramref name="name"/> is one component, never followed if it is a symbolic link, named
    /// (O_PATH) and checked to be a regular file within <paramref name="limit"/> before it is opened,
    /// to read or, with <paramref name="write"/>, to write in place (a sysfs attribute).
    /// </summary>
    /// <remarks><paramref name="displayPath"/> is the path errors name: the file as the user knows it.</remarks>
    internal static SafeFileHandle OpenAt(SafeFileHandle folder, string name, FileLimit limit, string displayPath, out long size, bool write = false)
    {
        RejectNul(name);
        if (name.Length == 0 || name.Contains('/') || name is "." or "..")
            throw new FileNotFoundException($"{displayPath}: no such file ('{name}' is not a file name).", displayPath);
        var dirfd = (int)folder.DangerousGetHandle();
        var pathFd = OpenAtNative(dirfd, name, PathFlags | ONoFollow);
        if (pathFd < 0)
            throw Failure(displayPath, Marshal.GetLastPInvokeError());
        using var named = new SafeFileHandle(pathFd, ownsHandle: true);
        var length = Check(named, displayPath, limit).Size;
        var flags = write ? WriteFlags : ReadFlags;
        var fd = OpenNative($"/proc/self/fd/{pathFd}", flags);
        var reopened = fd >= 0;
        if (!reopened)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is not (ENOENT or ENOTDIR))
                throw Failure(displayPath, errno);
            fd = OpenAtNative(dirfd, name, flags | ONoFollow); // no /proc mounted: opened by name again, and checked again below
            if (fd < 0)
                throw Failure(displayPath, Marshal.GetLastPInvokeError());
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            size = reopened ? length : Check(handle, displayPath, limit).Size;
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Writing in place (a sysfs attribute): never blocking, never a controlling terminal.</summary>
    private static readonly int WriteFlags = 0x1 | ONonBlock | OCloExec | ONoCtty;

    /// <summary>
    /// Names (O_PATH) a folder as <see cref="Open"/> would resolve it (inside the root when
    /// <paramref name="within"/> is not the host); the caller checks it is a folder and opens it.
    /// </summary>
    internal static SafeFileHandle NameFolder(string path, SystemRoot? within)
    {
        RejectNul(path);
        return new SafeFileHandle(OpenNamed(path, within, followLinks: true, PathFlags), ownsHandle: true);
    }

    /// <summary>The file type bits of an open or named file (S_IFMT of st_mode).</summary>
    internal static uint FileType(SafeFileHandle handle, string path) => Stat(handle, path).Mode & 0xF000;

    /// <summary>The permission bits of an open or named file.</summary>
    internal static uint Permissions(SafeFileHandle handle, string path) => Stat(handle, path).Mode & 0xFFF;

    /// <summary>
    /// What <see cref="Open"/> checks, without opening the file to read it: it is there (inside the
    /// root), a regular file, within its limit. Returns its size. Cheaper than opening it.
    /// </summary>
    public static long Probe(string path, FileLimit limit, SystemRoot? within) => ProbeStamp(path, limit, within).Size;

    /// <summary>What <see cref="Probe"/> checks, returning the file's size and when it was last written.</summary>
    public static FileStamp ProbeStamp(string path, FileLimit limit, SystemRoot? within)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(limit);
        RejectNul(path);
        using var named = new SafeFileHandle(OpenNamed(path, within, followLinks: true, PathFlags), ownsHandle: true);
        return Check(named, path, limit);
    }

    /// <summary>O_PATH: names a file without opening it for reading (no device or FIFO is opened this way).</summary>
    private const int PathFlags = OPath | OCloExec;

    private static int OpenNamed(string path, SystemRoot? within, bool followLinks, int flags) =>
        !followLinks ? OpenNoFollow(path, flags) : within is null || within.IsHost ? OpenOnHost(path, flags) : OpenInRoot(within, path, flags);

    /// <summary>The size (and time) of a regular file within its limit; anything else refused.</summary>
    private static FileStamp Check(SafeFileHandle handle, string path, FileLimit limit)
    {
        var (mode, length, written) = Stat(handle, path);
        if ((mode & 0xF000) != 0x8000)
            throw new FileRefusedException(path, FileRefusal.NotRegularFile,
                $"{path}: is {Describe(mode)}, not a regular file; {limit.Kind} must be a regular file, so it was not read.");
        return length <= limit.MaxBytes ? new FileStamp(length, written) : throw TooLarge(path, limit, length);
    }

    /// <summary>No file name holds a NUL: such a path names no file (and .NET would throw ArgumentException).</summary>
    public static void RejectNul(string path)
    {
        if (path.Contains('\0'))
            throw new FileNotFoundException($"{path.Replace('\0', '?')}: no such file (a path cannot contain a NUL character).", path.Replace('\0', '?'));
    }

    /// <summary>Reads the whole file (never more than its limit; procfs files report size 0, so the limit is checked as it is read).</summary>
    public static byte[] ReadAll(string path, FileLimit limit, SystemRoot? within = null, bool followLinks = true)
    {
        using var handle = Open(path, limit, within, out var size, followLinks);
        return ReadAll(handle, size, path, limit);
    }

    /// <summary>Reads the whole of a file <see cref="Open"/> opened (<paramref name="size"/> as it reported).</summary>
    public static byte[] ReadAll(SafeFileHandle handle, long size, string path, FileLimit limit)
    {
        // Start from the reported size (exact for a regular file on disk); grow only for procfs/sysfs.
        var buffer = GC.AllocateUninitializedArray<byte>((int)Math.Clamp(size + 1, 4096, Math.Min(limit.MaxBytes + 1, Array.MaxLength)));
        long total = 0;
        if (size >= 4096 && size <= limit.MaxBytes)
        {
            // A file of known size (megabytes of index files): read into an array of exactly that
            // size, then make sure nothing follows, so the bytes need no second copy.
            buffer = GC.AllocateUninitializedArray<byte>((int)size);
            while (total < size && RandomAccess.Read(handle, buffer.AsSpan((int)total), total) is var n && n > 0)
                total += n;
            Span<byte> probe = stackalloc byte[1];
            if (total == size && RandomAccess.Read(handle, probe, total) == 0)
                return buffer;
            if (total < size)
                return buffer.AsSpan(0, (int)total).ToArray(); // the file shrank while being read
            var larger = GC.AllocateUninitializedArray<byte>((int)Math.Min(Math.Min(size * 2, limit.MaxBytes + 1), Array.MaxLength));
            buffer.AsSpan().CopyTo(larger);
            buffer = larger;
        }
        while (true)
        {
            if (total == buffer.Length)
            {
                if (total > limit.MaxBytes)
                    throw TooLarge(path, limit, total);
                var grown = GC.AllocateUninitializedArray<byte>((int)Math.Min(Math.Min((long)buffer.Length * 2, limit.MaxBytes + 1), Array.MaxLength));
                buffer.AsSpan().CopyTo(grown);
                buffer = grown;
            }
            var n = RandomAccess.Read(handle, buffer.AsSpan((int)total), total);
            if (n == 0) break;
            total += n;
        }
        if (total > limit.MaxBytes)
            throw TooLarge(path, limit, total);
        return total == buffer.Length ? buffer : buffer.AsSpan(0, (int)total).ToArray();
    }

    /// <summary>A stream over the file, for readers that parse as they go (kallsyms). Unbuffered: the reader has its own buffer.</summary>
    public static FileStream OpenStream(string path, FileLimit limit, SystemRoot? within = null)
    {
        var handle = Open(path, limit, within, out _);
        try
        {
            return new FileStream(handle, FileAccess.Read, 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// pread until <paramref name="into"/> is full or the file ends: the bytes read, fewer when the
    /// file shrank while it was read (the caller's parser then reports what is missing).
    /// </summary>
    public static int ReadFully(SafeFileHandle handle, Span<byte> into, long offset)
    {
        var total = 0;
        while (total < into.Length)
        {
            var n = RandomAccess.Read(handle, into[total..], offset + total);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }

    /// <summary>True when the path names a regular file (inside the root), without opening it.</summary>
    public static bool IsRegularFile(string path, SystemRoot? within = null)
    {
        try
        {
            using var handle = Open(path, new FileLimit("a file", long.MaxValue), within, out _);
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return true; } // it exists; reading it will say why not
    }

    internal static FileRefusedException TooLarge(string path, FileLimit limit, long length) =>
        new(path, FileRefusal.TooLarge,
            $"{path}: is {(length > limit.MaxBytes + 1 ? $"{length:N0} bytes" : "larger than that")}, more than the {limit.MaxBytes:N0} bytes allowed for {limit.Kind}; it was not read.", limit);

    private static int OpenOnHost(string path, int flags)
    {
        var fd = OpenNative(path, flags);
        return fd >= 0 ? fd : throw Failure(path, Marshal.GetLastPInvokeError());
    }

    /// <summary>
    /// The last component must not be a symbolic link: with O_PATH, O_NOFOLLOW names the link
    /// itself, which is then refused as not a regular file; without O_PATH, its ELOOP says so.
    /// </summary>
    private static int OpenNoFollow(string path, int flags)
    {
        var fd = OpenNative(path, flags | ONoFollow);
        if (fd >= 0)
            return fd;
        var errno = Marshal.GetLastPInvokeError();
        throw errno == ELOOP
            ? new FileRefusedException(path, FileRefusal.NotRegularFile, $"{path}: is a symbolic link, not a regular file; it was not followed.")
            : Failure(path, errno);
    }

    private static int OpenInRoot(SystemRoot root, string path, int flags)
    {
        var inner = InnerPath(root, path);
        if (!_openat2Missing && !ForceUserSpaceResolution)
        {
            var rootFd = OpenNative(root.Path, OPath | OCloExec);
            if (rootFd < 0)
                throw Failure(root.Path, Marshal.GetLastPInvokeError());
            try
            {
                var how = new OpenHow { Flags = (ulong)flags, Resolve = ResolveInRoot | ResolveNoMagicLinks };
                var fd = Openat2(SysOpenat2, rootFd, inner, &how, (nuint)sizeof(OpenHow));
                if (fd >= 0)
                    return (int)fd;
                var errno = Marshal.GetLastPInvokeError();
                // ENOSYS: a kernel before 5.6; EPERM/E2BIG: a seccomp filter or an older struct. Walk instead.
                if (errno is not (ENOSYS or EPERM or E2BIG))
                    throw Failure(path, errno);
                _openat2Missing = true;
            }
            finally
            {
                Close(rootFd);
            }
        }
        var resolved = ResolveInsideRoot(root.Path, inner, path);
        // O_NOFOLLOW: the walk resolved every link; a link planted since then is refused, not followed.
        var fd2 = OpenNative(resolved, flags | ONoFollow);
        return fd2 >= 0 ? fd2 : throw Failure(path, Marshal.GetLastPInvokeError());
    }

    /// <summary>The path as the image sees it: relative to the root folder, or absolute (both mean "inside the root").</summary>
    internal static string InnerPath(SystemRoot root, string path)
    {
        var prefix = root.Path.TrimEnd('/');
        if (path == prefix) return ".";
        if (path.StartsWith(prefix + "/", StringComparison.Ordinal)) return path[(prefix.Length + 1)..];
        return path; // absolute paths are resolved inside the root; relative ones against it
    }

    /// <summary>
    /// The user-space twin of RESOLVE_IN_ROOT: each component in turn, ".." stopping at the root,
    /// a symbolic link's target spliced in (an absolute one restarting at the root).
    /// </summary>
    internal static string ResolveInsideRoot(string root, string inner, string displayPath)
    {
        var pending = new Stack<string>(inner.Split('/').Reverse());
        var resolved = new List<string>();
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part is "" or ".") continue;
            if (part == "..")
            {
                if (resolved.Count > 0) resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            var candidate = System.IO.Path.Join(root, string.Join('/', resolved), part);
            string? target = null;
            try
            {
                target = new FileInfo(candidate).LinkTarget;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            if (target is null)
            {
                resolved.Add(part);
                continue;
            }
            if (++links > MaxSymbolicLinks)
                throw Failure(displayPath, ELOOP);
            if (target.StartsWith('/')) resolved.Clear();
            foreach (var t in target.Split('/').Reverse()) pending.Push(t);
        }
        return System.IO.Path.Join(root, string.Join('/', resolved));
    }

    private static (uint Mode, long Size, DateTime LastWriteTimeUtc) Stat(SafeFileHandle handle, string path)
    {
        var buffer = stackalloc byte[256];
        if (Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxType | StatxSize | StatxMtime, buffer) != 0)
            throw Failure(path, Marshal.GetLastPInvokeError());
        var b = new ReadOnlySpan<byte>(buffer, 256);
        // struct statx: stx_mode at 28, stx_size at 40, stx_mtime (tv_sec i64, tv_nsec u32) at 112.
        var written = FromUnixTime(BinaryPrimitives.ReadInt64LittleEndian(b[112..]), BinaryPrimitives.ReadUInt32LittleEndian(b[120..]));
        return (BinaryPrimitives.ReadUInt16LittleEndian(b[28..]), BinaryPrimitives.ReadInt64LittleEndian(b[40..]), written);
    }

    /// <summary>A file time; one a hostile image set outside DateTime's range is clamped, never thrown about.</summary>
    private static DateTime FromUnixTime(long seconds, uint nanoseconds)
    {
        const long MaxSeconds = 253_402_300_799L; // 9999-12-31T23:59:59Z
        const long MinSeconds = -62_135_596_800L; // 0001-01-01T00:00:00Z
        if (seconds >= MaxSeconds) return DateTime.MaxValue;
        if (seconds < MinSeconds) return DateTime.MinValue;
        return DateTime.UnixEpoch.AddTicks(seconds * TimeSpan.TicksPerSecond + Math.Min(nanoseconds, 999_999_999u) / 100);
    }

    internal static string Describe(uint mode) => (mode & 0xF000) switch
    {
        0x1000 => "a FIFO (named pipe)",
        0x2000 => "a character device",
        0x4000 => "a folder",
        0x6000 => "a block device",
        0xA000 => "a symbolic link",
        0xC000 => "a socket",
        _ => "a special file",
    };

    internal static Exception Failure(string path, int errno) => errno switch
    {
        ENOENT or ENOTDIR => new FileNotFoundException($"{path}: no such file.", path),
        EACCES or EPERM => new UnauthorizedAccessException($"{path}: permission denied."),
        ELOOP => new FileRefusedException(path, FileRefusal.SymbolicLinkLoop,
            $"{path}: too many levels of symbolic links (a loop, or a link that points at itself); it was not read."),
        ENXIO => new FileRefusedException(path, FileRefusal.NotRegularFile, $"{path}: is a socket or a device with nothing behind it, not a regular file; it was not read."),
        _ => new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}.", errno),
    };
}
