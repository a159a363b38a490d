namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// How a module file is compressed, as told by its first bytes (kmod decides by magic, not by
/// the ".xz"/".zst"/".gz" extension, and so does this engine).
/// </summary>
public enum ModuleCompression
{
    /// <summary>No known compression magic: the bytes are read as they are (normally ELF).</summary>
    None,

    /// <summary>gzip, magic 1F 8B.</summary>
    Gzip,

    /// <summary>xz, magic FD 37 7A 58 5A 00.</summary>
    Xz,

    /// <summary>zstd, magic 28 B5 2F FD.</summary>
    Zstd,
}
