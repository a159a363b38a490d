using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// What identifies one version of a file without reading it: device, inode, size, mtime and ctime
/// (nanoseconds). ctime is in the key because package managers and "cp -p" restore mtimes; any
/// write, rename over or chmod moves ctime, and user space cannot set it back.
/// </summary>
internal readonly record struct FileIdentity(ulong Device, ulong Inode, long Size, long MtimeSeconds, uint MtimeNanoseconds, long CtimeSeconds, uint CtimeNanoseconds, uint Mode)
{
    public bool IsRegularFile => (Mode & 0xF000) == 0x8000;
    public bool IsDirectory => (Mode & 0xF000) == 0x4000;
}

/// <summary>The few system calls .NET does not expose: statx (one layout on every architecture), fsync of a folder, sync_file_range.</summary>
internal static partial class NativeFile
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int OWriteOnly = 0x1, OCloExec = 0x80000;
    private static readonly int ONoFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
    private const uint StatxBasicStats = 0x7FF;
    private const int StatxBufferSize = 256;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static unsafe partial int StatxAt(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(nint fd, long offset, long bytes, uint flags);

    private const uint SyncFileRangeWrite = 2;
    private static volatile bool _syncFileRangeMissing;

    /// <summary>
    /// Starts writing a file's dirty pages to disk without waiting (sync_file_range): an fsync
    /// that follows then waits for writes already under way. Best effort; it makes nothing durable by itself.
    /// </summary>
    public static void StartWriteback(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        if (_syncFileRangeMissing || !OperatingSystem.IsLinux() || handle.IsInvalid || handle.IsClosed)
            return;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            SyncFileRange(handle.DangerousGetHandle(), 0, 0, SyncFileRangeWrite);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _syncFileRangeMissing = true;
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    private static volatile bool _statxMissing;

    /// <summary>The identity of the file <paramref name="handle"/> has open, or null when it cannot be had.</summary>
    public static unsafe FileIdentity? Stat(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        const int AtEmptyPath = 0x1000;
        if (_statxMissing || !OperatingSystem.IsLinux())
            return null;
        var buffer = stackalloc byte[StatxBufferSize];
        try
        {
            if (Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxBasicStats, buffer) != 0)
                return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _statxMissing = true;
            return null;
        }
        return FromStatx(new ReadOnlySpan<byte>(buffer, StatxBufferSize));
    }

    /// <summary>
    /// The identity of <paramref name="path"/>, or null when it cannot be had. Symbolic links are
    /// followed unless <paramref name="followLinks"/> is false (the engine's own files: a link
    /// there is then itself, never the same as a regular file it points at).
    /// </summary>
    public static unsafe FileIdentity? Stat(string path, bool followLinks = true)
    {
        if (_statxMissing || !OperatingSystem.IsLinux())
            return null;
        var buffer = stackalloc byte[StatxBufferSize];
        try
        {
            if (Statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
                return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _statxMissing = true; // glibc before 2.28
            return null;
        }
        return FromStatx(new ReadOnlySpan<byte>(buffer, StatxBufferSize));
    }

    /// <summary>The identity of <paramref name="name"/> (a NUL-terminated name) inside the open folder <paramref name="directory"/>, symbolic links followed.</summary>
    public static unsafe FileIdentity? StatAt(int directory, byte* name)
    {
        if (_statxMissing)
            return null;
        var buffer = stackalloc byte[StatxBufferSize];
        try
        {
            if (StatxAt(directory, name, 0, StatxBasicStats, buffer) != 0)
                return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _statxMissing = true;
            return null;
        }
        return FromStatx(new ReadOnlySpan<byte>(buffer, StatxBufferSize));
    }

    private static FileIdentity FromStatx(ReadOnlySpan<byte> b)
    {
        return new FileIdentity(
            Device: ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(b[136..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(b[140..]),
            Inode: BinaryPrimitives.ReadUInt64LittleEndian(b[32..]),
            Size: BinaryPrimitives.ReadInt64LittleEndian(b[40..]),
            MtimeSeconds: BinaryPrimitives.ReadInt64LittleEndian(b[112..]),
            MtimeNanoseconds: BinaryPrimitives.ReadUInt32LittleEndian(b[120..]),
            CtimeSeconds: BinaryPrimitives.ReadInt64LittleEndian(b[96..]),
            CtimeNanoseconds: BinaryPrimitives.ReadUInt32LittleEndian(b[104..]),
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(b[28..]));
    }

    /// <summary>
    /// Opens an existing file to append to it (the stream is at its end), never through a symbolic
    /// link (O_NOFOLLOW): a link planted in its place is refused, so the append cannot land outside the tree.
    /// </summary>
    public static FileStream OpenAppendNoFollow(string path)
    {
        var fd = Open(path, OWriteOnly | ONoFollow | OCloExec);
        if (fd < 0)
            throw new IOException($"{path}: cannot be appended to ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}).");
        var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var stream = new FileStream(handle, FileAccess.Write, 0);
            stream.Seek(0, SeekOrigin.End);
            return stream;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Makes the folder's entries (renames) durable. Best effort: a file system that cannot sync a
    /// folder says so with an error that is ignored, as the renames themselves succeeded.
    /// </summary>
    public static void SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux())
            return;
        try
        {
            // O_RDONLY with O_DIRECTORY differs between architectures; O_RDONLY alone opens a folder too.
            var fd = Open(path, 0);
            if (fd < 0)
                return;
            Fsync(fd);
            Close(fd);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }
}
