using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// The three module syscalls, through libc's syscall(2) (glibc has no wrappers for them). Each
/// returns 0 or the errno. Nothing here decides anything: callers check, explain and log.
/// </summary>
internal static partial class ModuleSyscalls
{
    private static (long Init, long Delete, long Finit) Numbers => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => (175, 176, 313),
        Architecture.Arm64 => (105, 106, 273),
        var a => throw new PlatformNotSupportedException($"module syscalls are not mapped for {a}; x86_64 and aarch64 are"),
    };

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall3(long number, nint a, nint b, nint c);

    public static int FinitModule(SafeFileHandle file, string parameters, int flags)
    {
        var p = NativeString(parameters);
        try
        {
            var fd = file.DangerousGetHandle();
            return Syscall3(Numbers.Finit, fd, p, flags) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            Marshal.FreeCoTaskMem(p);
        }
    }

    public static unsafe int InitModule(ReadOnlySpan<byte> image, string parameters)
    {
        var p = NativeString(parameters);
        try
        {
            fixed (byte* data = image)
                return Syscall3(Numbers.Init, (nint)data, image.Length, p) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            Marshal.FreeCoTaskMem(p);
        }
    }

    /// <summary>
    /// A C string of the parameters' bytes: they are a byte string (modprobe.d's bytes, as kmod
    /// passes them), so a Latin-1 option reaches the kernel as the same byte, not re-encoded.
    /// </summary>
    private static nint NativeString(string s)
    {
        var bytes = ByteText.ToNative(s);
        var p = Marshal.AllocCoTaskMem(bytes.Length + 1);
        Marshal.Copy(bytes, 0, p, bytes.Length);
        Marshal.WriteByte(p, bytes.Length, 0);
        return p;
    }

    public static int DeleteModule(string name, int flags)
    {
        var p = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            return Syscall3(Numbers.Delete, p, flags, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            Marshal.FreeCoTaskMem(p);
        }
    }
}
