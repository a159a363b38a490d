namespace LkmPowerShell.Engine.Files;

/// <summary>Why a file was refused before (or while) it was read.</summary>
public enum FileRefusal
{
    /// <summary>A FIFO, device, socket or folder where a regular file belongs.</summary>
    NotRegularFile,

    /// <summary>Bigger than the <see cref="FileLimit"/> of its kind.</summary>
    TooLarge,

    /// <summary>A chain of symbolic links too long to follow (a loop, usually).</summary>
    SymbolicLinkLoop,
}

/// <summary>
/// A file the engine will not read: not a regular file, or too big for its kind. An IOException,
/// so every caller that already turns read failures into per-item errors handles it the same way.
/// </summary>
public sealed class FileRefusedException : IOException
{
    public FileRefusedException(string path, FileRefusal reason, string message, FileLimit? limit = null)
        : base(message)
    {
        FilePath = path;
        Reason = reason;
        Limit = limit;
    }

    public string FilePath { get; }
    public FileRefusal Reason { get; }
    public FileLimit? Limit { get; }
}
