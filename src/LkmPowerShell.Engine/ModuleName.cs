using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine;

/// <summary>kmod's module-name rules, and which names the project accepts.</summary>
public static class ModuleName
{
    /// <summary>"-" and "_" are the same in module names; kmod keeps "_".</summary>
    public static string Normalize(string name) => name.Replace('-', '_');

    /// <summary>
    /// A module's name from its file name, as kmod's modname_normalize does: the base name up to
    /// its first "." ("fat.ko.xz" to "fat"), then normalised.
    /// </summary>
    public static string FromPath(string path)
    {
        var file = System.IO.Path.GetFileName(path);
        var dot = file.IndexOf('.');
        return Normalize(dot >= 0 ? file[..dot] : file);
    }

    /// <summary>
    /// Aliases are normalised like names, except inside "[...]" where "-" is a range. A name with
    /// an unmatched bracket is left as it was (no module alias can match it anyway).
    /// </summary>
    public static string NormalizeAlias(string alias) => TryNormalizeAlias(alias) ?? alias;

    /// <summary>
    /// kmod's alias_normalize: "-" becomes "_" outside brackets; null for an unmatched "]" or an
    /// unclosed "[" (depmod then warns "Unmatched bracket" and leaves the alias out of the index).
    /// </summary>
    public static string? TryNormalizeAlias(string alias)
    {
        var chars = alias.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            switch (chars[i])
            {
                case '-': chars[i] = '_'; break;
                case ']': return null;
                case '[':
                    while (i < chars.Length && chars[i] != ']') i++;
                    if (i == chars.Length) return null;
                    break;
            }
        }
        return new string(chars);
    }

    // Checks a name or alias before it is looked up: a file path is not a name (it goes through
    // a file path), and a name must not be able to reach outside the module tree or the config directories
    // when it later becomes a file name (persistence writes /etc/modules-load.d/<name>.conf).

    /// <summary>kmod's buffers are PATH_MAX; no real alias comes close.</summary>
    public const int MaxLength = 4095;

    /// <summary>Null when the name is acceptable, else why not.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "the name is empty";
        if (name.Length > MaxLength) return $"the name is {name.Length:N0} characters long, more than {MaxLength:N0}";
        // devname: aliases (modules.devname, requested for /dev nodes) name device paths: devname:net/tun.
        if (name.Contains('/') && !name.StartsWith("devname:", StringComparison.Ordinal)) return "it contains '/', so it is a path, not a module name";
        if (name.Contains("..", StringComparison.Ordinal)) return "it contains '..'; module names and aliases never do";
        if (name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))) return "it contains spaces or control characters";
        return null;
    }

    /// <exception cref="InvalidModuleNameException">The name is not acceptable.</exception>
    public static void Validate(string? name)
    {
        if (Problem(name) is { } problem) throw new InvalidModuleNameException(name ?? "", problem);
    }

    /// <summary>
    /// A module name usable as a file name under /etc (persistence): letters, digits, "_" and "-" only.
    /// </summary>
    public static bool IsPlainModuleName(string name) =>
        name.Length is > 0 and <= 255 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
