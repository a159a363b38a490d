using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell;

/// <summary>
/// The ErrorRecords of reading files (module files, a tree's indexes, kallsyms, modprobe.d): stable
/// ErrorIds and specific categories, so every cmdlet reports the same failure the same way.
/// </summary>
public static partial class ModuleErrors
{
    /// <summary>The ways reading a module file fails that are the file's fault (or the system's), not a bug.</summary>
    internal static bool IsModuleFileFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or ModuleFormatException or NativeLibraryMissingException;

    /// <summary>Reads a module file, or writes the one ErrorRecord for it and returns null.</summary>
    internal static ModuleFileInfo? TryReadModuleFile(Cmdlet cmdlet, string path)
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

    internal static ErrorRecord ForModuleFile(Exception e, string path) => e switch
    {
        FileRefusedException refused => ForRefusedFile(refused, path),
        FileNotFoundException or DirectoryNotFoundException =>
            New(new FileNotFoundException($"{path}: no such file. Check the path, or use -ListAvailable to see the modules installed for a kernel.", e),
                "ModuleFileNotFound", ErrorCategory.ObjectNotFound, path),
        UnauthorizedAccessException =>
            New(new UnauthorizedAccessException($"{path}: permission denied reading the file; run as a user who can read it.", e),
                "ModuleFileAccessDenied", ErrorCategory.PermissionDenied, path),
        ModuleFormatException mfe => New(mfe, "InvalidModuleFile", ErrorCategory.InvalidData, path),
        NativeLibraryMissingException => New(e, "NativeLibraryMissing", ErrorCategory.NotInstalled, path),
        IOException => New(new IOException($"{path}: could not be read: {e.Message}", e), "ModuleFileReadError", ErrorCategory.ReadError, path),
        _ => New(e, "ModuleFileError", ErrorCategory.NotSpecified, path),
    };

    /// <summary>A module whose symbol table is damaged is still shown (its .modinfo), with a warning, as kmod's modinfo does.</summary>
    internal static void WarnAboutDamage(Cmdlet cmdlet, ModuleFileInfo info)
    {
        if (info.SymbolProblem is { } damage)
            cmdlet.WriteWarning($"{info.Path}: {damage}; its .modinfo is shown, its symbols are not.");
    }

    /// <summary>A file refused before it was read: the same id whichever cmdlet or path met it.</summary>
    internal static ErrorRecord ForRefusedFile(FileRefusedException e, string target) => e.Reason switch
    {
        FileRefusal.NotRegularFile => New(e, "NotARegularFile", ErrorCategory.InvalidType, target, "File.NotRegularFile"),
        FileRefusal.TooLarge => New(e, "FileTooLarge", ErrorCategory.LimitsExceeded, target, "File.TooLarge", e.Limit?.Kind ?? "file of its kind"),
        _ => New(e, "SymbolicLinkLoop", ErrorCategory.InvalidData, target, "File.LinkLoop"),
    };

    /// <summary>
    /// The one ErrorRecord for an engine failure reading the files of a tree or of the running
    /// kernel (an index, kallsyms, modprobe.d): non-terminating, so the pipeline goes on with
    /// the next input. <paramref name="formatErrorId"/> names what the corrupt file was.
    /// </summary>
    internal static ErrorRecord? ForReadFailure(Exception e, string target, string formatErrorId) => e switch
    {
        Engine.ModuleTree.ModuleTreeNotIndexedException nx => New(nx, "ModuleTreeNotIndexed", ErrorCategory.ObjectNotFound, nx.Directory,
            "ModuleTreeNotIndexed", nx.RootPath, nx.KernelVersion),
        FileRefusedException refused => ForRefusedFile(refused, refused.FilePath),
        ModuleFormatException mfe => New(mfe, formatErrorId, ErrorCategory.InvalidData, mfe.FilePath),
        UnauthorizedAccessException => New(e, "FileAccessDenied", ErrorCategory.PermissionDenied, target),
        FileNotFoundException fnf => New(e, "FileNotFound", ErrorCategory.ObjectNotFound, fnf.FileName ?? target),
        IOException => New(e, "FileReadError", ErrorCategory.ReadError, target),
        _ => null,
    };
}
