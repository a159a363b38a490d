using System.Runtime.InteropServices;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// Opens a system compression library on first use, the way kmod dlopen()s liblzma and libzstd.
/// Why NativeLibrary + function pointers rather than [LibraryImport]: a missing library must be a
/// clear error naming the Debian package, testable without uninstalling anything, and without an
/// assembly-wide DllImportResolver (only one may exist per assembly and other engine code may need
/// it). Function pointers resolved once are as cheap to call as LibraryImport stubs for these
/// blittable signatures.
/// </summary>
internal sealed class NativeCodecLibrary
{
    private readonly nint _handle;

    private NativeCodecLibrary(string name, nint handle)
    {
        Name = name;
        _handle = handle;
    }

    public string Name { get; }

    /// <summary>Loads <paramref name="name"/>; null with the loader's reason when it cannot.</summary>
    public static NativeCodecLibrary? TryLoad(string name, out string? error)
    {
        try
        {
            if (NativeLibrary.TryLoad(name, out var handle))
            {
                error = null;
                return new NativeCodecLibrary(name, handle);
            }
            error = "the shared library could not be loaded";
            return null;
        }
        catch (Exception e) when (e is BadImageFormatException or DllNotFoundException)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>The address of an exported function; null when the library lacks it (too old a version).</summary>
    public nint? TryGetExport(string symbol) =>
        NativeLibrary.TryGetExport(_handle, symbol, out var address) ? address : null;
}
