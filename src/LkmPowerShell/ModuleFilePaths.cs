using System.Management.Automation;

namespace LkmPowerShell;

/// <summary>-Path (wildcards) and -LiteralPath resolution shared by the cmdlets that read module files.</summary>
internal static class ModuleFilePaths
{
    /// <summary>
    /// Whether a string given as a module name is plainly a file: module names never contain '/'
    /// nor end in a module file's extension, so reading it as a path is what the user meant.
    /// </summary>
    public static bool LooksLikeFile(string name) =>
        name.Contains('/') || Engine.ModuleTree.ModuleFileNames.IsModuleFile(name);

    /// <summary>
    /// The files named, in order. A path that names no file is reported through
    /// <paramref name="error"/> (default: written at once), so a caller that writes its output
    /// later can keep each error in its place.
    /// </summary>
    public static IEnumerable<string> Resolve(PSCmdlet cmdlet, string[]? paths, string[]? literalPaths, Action<ErrorRecord>? error = null)
    {
        error ??= cmdlet.WriteError;
        var onFileSystem = cmdlet.SessionState.Path.CurrentLocation.Provider.Name == "FileSystem";
        if (literalPaths is not null)
        {
            foreach (var p in literalPaths)
                if (!HasNul(error, p))
                    yield return Unresolved(cmdlet, p, onFileSystem);
            yield break;
        }
        foreach (var p in paths ?? [])
        {
            if (HasNul(error, p))
                continue;
            if (!WildcardPattern.ContainsWildcardCharacters(p))
            {
                // Not resolved here: the reader reports a missing file with the module-specific message.
                yield return Unresolved(cmdlet, p, onFileSystem);
                continue;
            }
            IEnumerable<string> matches;
            try
            {
                matches = cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(p, out _);
            }
            catch (ItemNotFoundException)
            {
                matches = [];
            }
            var any = false;
            foreach (var m in matches)
            {
                any = true;
                yield return m;
            }
            if (!any)
                error(ModuleErrors.New(new FileNotFoundException($"{p}: no file matches this pattern."),
                    "ModuleFileNotFound", ErrorCategory.ObjectNotFound, p));
        }
    }

    /// <summary>
    /// The file system path of a PowerShell path. An absolute path already in its plain form is
    /// its own answer when the current location is on the file system (a leading "/" means the
    /// current drive's root); asking the session costs about 50 µs a path, which for a whole
    /// tree's 4,000 files was a fifth of the time.
    /// </summary>
    private static string Unresolved(PSCmdlet cmdlet, string path, bool onFileSystem) =>
        onFileSystem && IsPlainAbsolute(path) ? path : cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    private static bool IsPlainAbsolute(string path) =>
        path.Length > 1 && path[0] == '/' && !path.EndsWith('/') && !path.Contains('\\') && !path.Contains("//", StringComparison.Ordinal)
        && !path.Contains("/./", StringComparison.Ordinal) && !path.Contains("/../", StringComparison.Ordinal)
        && !path.EndsWith("/.", StringComparison.Ordinal) && !path.EndsWith("/..", StringComparison.Ordinal);

    /// <summary>A path with a NUL names no file: the same ModuleFileNotFound a missing file gets, never an ArgumentException.</summary>
    private static bool HasNul(Action<ErrorRecord> error, string path)
    {
        if (!path.Contains('\0'))
            return false;
        var shown = path.Replace('\0', '?');
        error(ModuleErrors.New(new FileNotFoundException($"{shown}: no such file (a path cannot contain a NUL character)."),
            "ModuleFileNotFound", ErrorCategory.ObjectNotFound, shown));
        return true;
    }
}
