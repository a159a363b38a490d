namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// depmod works on bytes, not text: paths, names and aliases are compared with strcmp and written
/// as they are. Inside this namespace every such string is a byte string (<see cref="ByteText"/>).
/// .modinfo strings already come that way from the ELF reader; paths from the file system are
/// UTF-16 and are converted here.
/// </summary>
internal static class ByteString
{
    public static string FromPath(string path) => ByteText.FromText(path);
}
