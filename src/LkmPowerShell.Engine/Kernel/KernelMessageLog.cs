using System.Runtime.InteropServices;
using System.Text;

namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// Reads what the kernel logs while we act (/dev/kmsg), so a failed load can quote the kernel's
/// own reason ("fat: Unknown symbol fat_time_unix2fat") instead of "see dmesg". Opened before the
/// syscall and positioned at the end; afterwards the new records are read without blocking.
/// Reading /dev/kmsg needs CAP_SYSLOG on some systems: then there is simply nothing to quote.
/// </summary>
internal sealed partial class KernelMessageLog : IKernelLog
{
    private const int OpenReadOnly = 0, OpenNonBlocking = 0x800, SeekEnd = 2;
    private const int EAGAIN = 11, EPIPE = 32;
    private int _fd;

    private KernelMessageLog(int fd) => _fd = fd;

    /// <summary>Starts listening at the current end of the log; null when /dev/kmsg cannot be opened.</summary>
    public static KernelMessageLog? OpenAtEnd(SystemRoot root)
    {
        if (!root.IsHost)
            return null;
        var fd = Open("/dev/kmsg", OpenReadOnly | OpenNonBlocking);
        if (fd < 0)
            return null;
        LSeek(fd, 0, SeekEnd);
        return new KernelMessageLog(fd);
    }

    /// <summary>
    /// Opens the log at its oldest record still in the kernel's ring buffer, to read all of it
    /// (what dmesg shows); null when /dev/kmsg cannot be opened (no CAP_SYSLOG with
    /// dmesg_restrict, or not the host root).
    /// </summary>
    public static KernelMessageLog? OpenAtStart(SystemRoot root)
    {
        if (!root.IsHost)
            return null;
        var fd = Open("/dev/kmsg", OpenReadOnly | OpenNonBlocking);
        return fd < 0 ? null : new KernelMessageLog(fd);
    }

    /// <summary>The messages logged since opening (or the last call), text only, oldest first.</summary>
    public unsafe IReadOnlyList<string> ReadNew(int max = 200)
    {
        var lines = new List<string>();
        var buffer = new byte[8192]; // one record per read; the kernel caps a record well below this
        while (lines.Count < max && _fd >= 0)
        {
            long n;
            fixed (byte* b = buffer)
                n = Read(_fd, b, buffer.Length);
            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EPIPE)
                    continue; // records were overwritten before we read them: go on with the rest
                break; // EAGAIN: no more records
            }
            if (n == 0)
                break;
            // "priority,sequence,timestamp,flags;message\n" followed by " KEY=value" continuation lines.
            var record = Encoding.UTF8.GetString(buffer, 0, (int)n);
            var semi = record.IndexOf(';');
            var text = semi >= 0 ? record[(semi + 1)..] : record;
            var end = text.IndexOf('\n');
            lines.Add(end >= 0 ? text[..end] : text);
        }
        return lines;
    }

    public void Dispose()
    {
        if (_fd >= 0)
            Close(_fd);
        _fd = -1;
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial long Read(int fd, byte* buffer, long count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
