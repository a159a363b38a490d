using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Elf;

/// <summary>
/// Where an <see cref="ElfImage"/> gets its bytes: an image already in memory, or a file read with
/// pread only where asked (headers and the sections a reader needs: for depmod a few percent of a
/// module, much as kmod's mmap only touches those pages). Ranges are checked by the image.
/// </summary>
public abstract class ElfSource
{
    public abstract long Length { get; }

    /// <summary>Bytes [offset, offset + length); the caller has checked the range against <see cref="Length"/>.</summary>
    public abstract ReadOnlyMemory<byte> Get(long offset, int length);

    public static ElfSource FromMemory(ReadOnlyMemory<byte> image) => new MemorySource(image);

    private sealed class MemorySource(ReadOnlyMemory<byte> image) : ElfSource
    {
        public override long Length => image.Length;
        public override ReadOnlyMemory<byte> Get(long offset, int length) => image.Slice((int)offset, length);
    }
}

/// <summary>
/// pread into reusable buffers, one per request of a module, so reading thousands of modules in a
/// row allocates almost nothing. What it returned stays valid until <see cref="Reset"/>.
/// </summary>
internal sealed class FileElfSource : ElfSource
{
    private readonly List<byte[]> _slots = [];
    private int _next;
    private SafeFileHandle? _handle;
    private long _length;

    public void Open(SafeFileHandle handle, long length)
    {
        _handle = handle;
        _length = length;
        _next = 0;
    }

    public override long Length => _length;

    public override ReadOnlyMemory<byte> Get(long offset, int length)
    {
        if (_next == _slots.Count) _slots.Add([]);
        if (_slots[_next].Length < length) _slots[_next] = new byte[Math.Max(length, 4096)];
        var buffer = _slots[_next++].AsMemory(0, length);
        if (Files.SafeFile.ReadFully(_handle!, buffer.Span, offset) < length)
            throw new EndOfStreamException("the file shrank while it was read");
        return buffer;
    }

    /// <summary>Forgets the file; the buffers stay for the next one.</summary>
    public void Reset()
    {
        _next = 0;
        _handle = null;
    }
}
