using System.Text;
using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Kernel;

/// <summary>The outcome of reading one sysfs attribute: its text, or why there is none.</summary>
internal readonly record struct SysfsRead(string? Value, bool Exists, string? Problem)
{
    public bool IsReadable => Value is not null;
}

/// <summary>
/// Reads small sysfs attribute files. A sysfs attribute is at most a page and the kernel hands it
/// out whole on the first read, so one pooled buffer and no FileStream is enough; files that
/// vanish (the module unloaded meanwhile) or refuse reading (write-only parameters give EACCES
/// even to root, some parameter getters fail with EIO) become results, never exceptions.
/// </summary>
internal static class SysfsAttribute
{
    // A page is the sysfs limit; 16 KiB also covers 16 KiB-page arm64 kernels.
    private const int MaxSize = 16384;

    public static SysfsRead Read(string path, SystemRoot? within = null) =>
        Read(() => Files.SafeFile.Open(path, Files.FileLimits.KernelFile, within, out _));

    /// <summary>An attribute of a folder held open (a module's parameters/): never through a link, regular files only.</summary>
    public static SysfsRead Read(Files.ContainedFolder folder, string name) =>
        Read(() => folder.OpenFile(name, Files.FileLimits.KernelFile, write: false, out _));

    private static SysfsRead Read(Func<SafeFileHandle> open)
    {
        byte[]? rented = null;
        try
        {
            using SafeFileHandle handle = open();
            rented = System.Buffers.ArrayPool<byte>.Shared.Rent(MaxSize);
            var total = 0;
            while (total < rented.Length)
            {
                var n = RandomAccess.Read(handle, rented.AsSpan(total), total);
                if (n == 0) break;
                total += n;
            }
            var text = rented.AsSpan(0, total);
            // The kernel ends an attribute with one newline; anything before it (spaces in a
            // charp parameter, say) belongs to the value.
            if (text.Length > 0 && text[^1] == (byte)'\n') text = text[..^1];
            return new SysfsRead(Encoding.UTF8.GetString(text), true, null);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new SysfsRead(null, false, "does not exist");
        }
        catch (UnauthorizedAccessException)
        {
            return new SysfsRead(null, true, "permission denied (write-only, or readable by root only)");
        }
        catch (IOException e)
        {
            return new SysfsRead(null, true, e.Message);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static long? ReadInt64(string path, SystemRoot? within = null) =>
        Read(path, within).Value is { } v && long.TryParse(v.Trim(), System.Globalization.NumberStyles.AllowLeadingSign,
            System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
}
