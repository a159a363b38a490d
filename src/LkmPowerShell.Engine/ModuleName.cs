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
    /// Aliases are normalised like names, except inside "[...]" where "-" is a range.
    /// </summary>
    public static string NormalizeAlias(string alias)
    {
        var chars = alias.ToCharArray();
        var inBracket = false;
        for (var i = 0; i < chars.Length; i++)
        {
            switch (chars[i])
            {
                case '[': inBracket = true; break;
                case ']': inBracket = false; break;
                case '-' when !inBracket: chars[i] = '_'; break;
            }
        }
        return new string(chars);
    }
}
