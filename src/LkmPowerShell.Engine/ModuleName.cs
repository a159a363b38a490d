namespace LkmPowerShell.Engine;

/// <summary>kmod's module-name rules.</summary>
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
}
