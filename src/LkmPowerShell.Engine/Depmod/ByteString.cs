using System.Text;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// depmod works on bytes, not text: paths, names and aliases are compared with strcmp and written
/// as they are. Inside this namespace every such string is a "byte string": one char per byte
/// (Latin-1), so ordinal comparison equals strcmp and writing with Latin-1 gives the same bytes.
/// .modinfo strings already come that way from the ELF reader; paths from the file system are
/// UTF-16 and are converted here.
/// </summary>
internal static class ByteString
{
    public static string FromPath(string path) =>
        Ascii.IsValid(path) ? path : Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(path));

    public static string ToPath(string bytes) =>
        Ascii.IsValid(bytes) ? bytes : Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(bytes));

    /// <summary>kmod's modname_normalize: up to the first "." (or the end), "-" as "_".</summary>
    public static string ModuleNameOf(string fileName)
    {
        var dot = fileName.IndexOf('.');
        return (dot < 0 ? fileName : fileName[..dot]).Replace('-', '_');
    }

    /// <summary>
    /// kmod's alias_normalize: "-" becomes "_" outside brackets; null for an unmatched "]" or an
    /// unclosed "[" (depmod then warns "Unmatched bracket" and leaves the alias out of the index).
    /// </summary>
    public static string? NormalizeAlias(string alias)
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
