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
}
