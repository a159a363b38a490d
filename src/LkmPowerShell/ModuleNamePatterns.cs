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

    /// <summary>Names given without wildcards that matched nothing: each deserves an error, like Get-Process.</summary>
    public IEnumerable<string> UnmatchedLiterals()
    {
        for (var i = 0; i < _patterns.Length; i++)
            if (_patterns[i].IsLiteral && !_matched[i])
                yield return _patterns[i].Text;
    }
}
