using System.Management.Automation;
using LkmPowerShell.Engine;

namespace LkmPowerShell;

/// <summary>
/// -Name patterns for module names: PowerShell wildcards, with "-" and "_" the same as kmod
/// treats them ("snd-hda*" finds snd_hda_intel).
/// </summary>
internal sealed class ModuleNamePatterns
{
    private readonly (string Text, WildcardPattern Pattern, bool IsLiteral)[] _patterns;
    private readonly bool[] _matched;

    public ModuleNamePatterns(string[]? names)
    {
        _patterns = (names ?? []).Select(n =>
        {
            var normal = ModuleName.NormalizeAlias(n);
            return (n, WildcardPattern.Get(normal, WildcardOptions.IgnoreCase), !WildcardPattern.ContainsWildcardCharacters(n));
        }).ToArray();
        _matched = new bool[_patterns.Length];
    }

    public bool IsEmpty => _patterns.Length == 0;

    /// <summary>
    /// The names that are valid wildcard patterns; each one that is not ("[", "a[b") gets one
    /// non-terminating InvalidNamePattern error, the same from every cmdlet and parameter set.
    /// Null when none was given; empty when every one was invalid (the caller then lists nothing).
    /// </summary>
    public static string[]? Validate(Cmdlet cmdlet, string[]? names)
    {
        if (names is null) return null;
        var valid = new List<string>(names.Length);
        foreach (var name in names)
        {
            try
            {
                WildcardPattern.Get(name, WildcardOptions.None).IsMatch(""); // parses the pattern
                valid.Add(name);
            }
            catch (WildcardPatternException e)
            {
                cmdlet.WriteError(ModuleErrors.New(new ArgumentException($"'{name}' is not a valid wildcard pattern: {e.Message}", e),
                    "InvalidNamePattern", ErrorCategory.InvalidArgument, name, "InvalidNamePattern"));
            }
        }
        return [.. valid];
    }

    /// <summary>True when no pattern was given or one matches; remembers which matched.</summary>
    public bool Match(string moduleName)
    {
        if (_patterns.Length == 0)
            return true;
        var normal = ModuleName.Normalize(moduleName);
        var any = false;
        for (var i = 0; i < _patterns.Length; i++)
        {
            if (_patterns[i].Pattern.IsMatch(normal))
            {
                _matched[i] = true;
                any = true;
            }
        }
        return any;
    }

    /// <summary>Whether a name given without wildcards names this module (asked for by name, not found by a pattern).</summary>
    public bool NamesLiterally(string moduleName)
    {
        var normal = ModuleName.Normalize(moduleName);
        foreach (var (_, pattern, isLiteral) in _patterns)
            if (isLiteral && pattern.IsMatch(normal))
                return true;
        return false;
    }

    /// <summary>Names given without wildcards that matched nothing: each deserves an error, like Get-Process.</summary>
    public IEnumerable<string> UnmatchedLiterals()
    {
        for (var i = 0; i < _patterns.Length; i++)
            if (_patterns[i].IsLiteral && !_matched[i])
                yield return _patterns[i].Text;
    }
}
