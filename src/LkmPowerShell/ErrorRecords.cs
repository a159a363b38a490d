using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Files;
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
        FileRefusedException refused => ForRefusedFile(refused, path),
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

    /// <summary>A module whose symbol table is damaged is still shown (its .modinfo), with a warning, as kmod's modinfo does.</summary>
    public static void WarnAboutDamage(Cmdlet cmdlet, ModuleFileInfo info)
    {
        if (info.SymbolProblem is { } damage)
            cmdlet.WriteWarning($"{info.Path}: {damage}; its .modinfo is shown, its symbols are not.");
    }

    /// <summary>A file refused before it was read: the same id whichever cmdlet or path met it.</summary>
    public static ErrorRecord ForRefusedFile(FileRefusedException e, string target)
    {
        var record = e.Reason switch
        {
            FileRefusal.NotRegularFile => new ErrorRecord(e, "NotARegularFile", ErrorCategory.InvalidType, target),
            FileRefusal.TooLarge => new ErrorRecord(e, "FileTooLarge", ErrorCategory.LimitsExceeded, target),
            _ => new ErrorRecord(e, "SymbolicLinkLoop", ErrorCategory.InvalidData, target),
        };
        record.ErrorDetails = new ErrorDetails(e.Message)
        {
            RecommendedAction = e.Reason switch
            {
                FileRefusal.NotRegularFile => "Point the path at a regular file; FIFOs, devices and sockets are never read.",
                FileRefusal.TooLarge => $"The file is not a real {e.Limit?.Kind ?? "file of its kind"}: check where it came from.",
                _ => "Fix the symbolic links so that they end at a file.",
            },
        };
        return record;
    }

    /// <summary>
    /// The one ErrorRecord for an engine failure reading the files of a tree or of the running
    /// kernel (an index, kallsyms, modprobe.d): non-terminating, so the pipeline goes on with
    /// the next input. <paramref name="formatErrorId"/> names what the corrupt file was.
    /// </summary>
    public static ErrorRecord? ForReadFailure(Exception e, string target, string formatErrorId) => e switch
    {
        Engine.ModuleTree.ModuleTreeNotIndexedException nx => ModuleErrors.New(nx, "ModuleTreeNotIndexed", ErrorCategory.ObjectNotFound, nx.Directory,
            "ModuleTreeNotIndexed", nx.RootPath, nx.KernelVersion),
        FileRefusedException refused => ForRefusedFile(refused, refused.FilePath),
        ModuleFormatException mfe => new ErrorRecord(mfe, formatErrorId, ErrorCategory.InvalidData, mfe.FilePath),
        UnauthorizedAccessException => new ErrorRecord(e, "FileAccessDenied", ErrorCategory.PermissionDenied, target),
        FileNotFoundException fnf => new ErrorRecord(e, "FileNotFound", ErrorCategory.ObjectNotFound, fnf.FileName ?? target),
        IOException => new ErrorRecord(e, "FileReadError", ErrorCategory.ReadError, target),
        _ => null,
    };
}
