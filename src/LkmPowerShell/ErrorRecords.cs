using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell;

/// <summary>
/// One place that turns engine exceptions into ErrorRecords with stable ErrorIds and specific
/// categories, so every cmdlet reports the same failure the same way.
/// </summary>
internal static class ErrorRecords
{
    /// <summary>The ways reading a module file fails that are the file's fault (or the system's), not a bug.</summary>
    public static bool IsModuleFileFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or ModuleFormatException or NativeLibraryMissingException;

    /// <summary>Reads a module file, or writes the one ErrorRecord for it and returns null.</summary>
    public static ModuleFileInfo? TryReadModuleFile(Cmdlet cmdlet, string path)
    {
        try
        {
            return ModuleFileReader.Read(path);
        }
        catch (Exception e) when (IsModuleFileFailure(e))
        {
            cmdlet.WriteError(ForModuleFile(e, path));
            return null;
        }
    }

    public static ErrorRecord ForModuleFile(Exception e, string path) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException =>
            new ErrorRecord(new FileNotFoundException($"{path}: no such file. Check the path, or use -ListAvailable to see the modules installed for a kernel.", e),
                "ModuleFileNotFound", ErrorCategory.ObjectNotFound, path),
        UnauthorizedAccessException =>
            new ErrorRecord(new UnauthorizedAccessException($"{path}: permission denied reading the file; run as a user who can read it.", e),
                "ModuleFileAccessDenied", ErrorCategory.PermissionDenied, path),
        ModuleFormatException mfe => new ErrorRecord(mfe, "InvalidModuleFile", ErrorCategory.InvalidData, path),
        NativeLibraryMissingException => new ErrorRecord(e, "NativeLibraryMissing", ErrorCategory.NotInstalled, path),
        IOException => new ErrorRecord(new IOException($"{path}: could not be read: {e.Message}", e), "ModuleFileReadError", ErrorCategory.ReadError, path),
        _ => new ErrorRecord(e, "ModuleFileError", ErrorCategory.NotSpecified, path),
    };
}
