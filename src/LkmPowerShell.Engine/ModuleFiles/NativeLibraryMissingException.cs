namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// A compressed module needs a system library (liblzma.so.5 for xz, libzstd.so.1 for zstd) that
/// this machine does not have. It is not a fault of the file, so it is not a
/// <see cref="ModuleFormatException"/>: the remedy is to install a package, and the message says which.
/// </summary>
public sealed class NativeLibraryMissingException : Exception
{
    public NativeLibraryMissingException(string path, ModuleCompression compression, string library, string package, string? detail = null)
        : base($"{path}: reading {compression.ToString().ToLowerInvariant()}-compressed modules needs {library} " +
               $"(Debian package {package}){(detail is null ? "" : $": {detail}")}.")
    {
        FilePath = path;
        Compression = compression;
        LibraryName = library;
        PackageName = package;
    }

    public string FilePath { get; }

    public ModuleCompression Compression { get; }

    /// <summary>The shared object that could not be loaded, e.g. "liblzma.so.5".</summary>
    public string LibraryName { get; }

    /// <summary>The Debian package that provides it, e.g. "liblzma5".</summary>
    public string PackageName { get; }
}
