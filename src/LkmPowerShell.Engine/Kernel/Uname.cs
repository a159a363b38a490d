using System.Runtime.InteropServices;

namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// The release string of the kernel this process runs on, from uname(2), which is what
/// <c>uname -r</c> and kmod print (the procfs file says the same but needs /proc mounted).
/// </summary>
internal static partial class Uname
{
    // struct utsname on Linux (glibc and musl): six char[65] fields; release is the third.
    private const int FieldLength = 65;
    private const int ReleaseOffset = 2 * FieldLength;

    [LibraryImport("libc", EntryPoint = "uname", SetLastError = true)]
    private static unsafe partial int NativeUname(byte* buffer);

    /// <summary>The release, or null when the call is unavailable or fails.</summary>
    public static unsafe string? Release()
    {
        if (!OperatingSystem.IsLinux()) return null;
        // Larger than the struct on purpose: a libc with longer fields must not write past it.
        var buffer = stackalloc byte[2048];
        try
        {
            if (NativeUname(buffer) != 0) return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        var field = new ReadOnlySpan<byte>(buffer + ReleaseOffset, FieldLength);
        var end = field.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end >= 0 ? field[..end] : field);
    }
}
