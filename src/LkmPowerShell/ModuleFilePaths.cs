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

    public static IEnumerable<string> Resolve(PSCmdlet cmdlet, string[]? paths, string[]? literalPaths)
    {
        if (literalPaths is not null)
        {
            foreach (var p in literalPaths)
                if (!HasNul(cmdlet, p))
                    yield return cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(p);
            yield break;
        }
        foreach (var p in paths ?? [])
        {
            if (HasNul(cmdlet, p))
                continue;
            if (!WildcardPattern.ContainsWildcardCharacters(p))
            {
                // Not resolved here: the reader reports a missing file with the module-specific message.
                yield return cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(p);
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
                cmdlet.WriteError(new ErrorRecord(new FileNotFoundException($"{p}: no file matches this pattern."),
                    "ModuleFileNotFound", ErrorCategory.ObjectNotFound, p));
        }
    }

    /// <summary>A path with a NUL names no file: the same ModuleFileNotFound a missing file gets, never an ArgumentException.</summary>
    private static bool HasNul(Cmdlet cmdlet, string path)
    {
        if (!path.Contains('\0'))
            return false;
        var shown = path.Replace('\0', '?');
        cmdlet.WriteError(new ErrorRecord(new FileNotFoundException($"{shown}: no such file (a path cannot contain a NUL character)."),
            "ModuleFileNotFound", ErrorCategory.ObjectNotFound, shown));
        return true;
    }
}
