namespace LkmPowerShell.Engine.Initramfs;

/// <summary>
/// One member of a cpio "newc" archive, held in memory: never written anywhere, and its name never
/// resolved against any folder. <see cref="Name"/> is the name as stored; <see cref="Path"/> is it
/// made relative to the initramfs root ("./lib/x" and "/lib/x" are "lib/x", "." is the root), or
/// null when the name could leave that root ("..") or is empty.
/// </summary>
public sealed record CpioEntry(string Name, string? Path, uint Mode, uint Inode, uint Links, uint DeviceMajor, uint DeviceMinor, ReadOnlyMemory<byte> Data)
{
    public bool IsRegularFile => (Mode & 0xF000) == 0x8000;
    public bool IsDirectory => (Mode & 0xF000) == 0x4000;
    public bool IsSymbolicLink => (Mode & 0xF000) == 0xA000;

    /// <summary>A symbolic link's target as stored (never followed); null for anything else.</summary>
    public string? LinkTarget => IsSymbolicLink ? System.Text.Encoding.UTF8.GetString(Data.Span) : null;

    public override string ToString() => Name;
}
