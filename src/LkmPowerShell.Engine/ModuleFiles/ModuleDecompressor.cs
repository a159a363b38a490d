namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// Recognises and undoes the compression of a module file (gzip, xz, zstd), as libkmod does when
/// it opens a module. Every call is independent, so several threads may decompress at once.
/// Errors: <see cref="ModuleFormatException"/> for corrupt, truncated or oversized data;
/// <see cref="NativeLibraryMissingException"/> when liblzma or libzstd is not installed.
/// </summary>
internal static class ModuleDecompressor
{
    /// <summary>The default cap on a decompressed module: the largest real one (6.12, amdgpu) is about 40 MiB.</summary>
    public const long DefaultMaxOutputBytes = 256L << 20;

    /// <summary>The most bytes a header must have for <see cref="Detect"/> to see every magic.</summary>
    public const int MagicLength = 6;

    /// <summary>The compression of a file, from its first bytes (at least <see cref="MagicLength"/> of them to be sure).</summary>
    public static ModuleCompression Detect(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0x28, 0xB5, 0x2F, 0xFD]))
            return ModuleCompression.Zstd;
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]))
            return ModuleCompression.Xz;
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]))
            return ModuleCompression.Gzip;
        return ModuleCompression.None;
    }

    /// <summary>
    /// Decompresses a whole compressed module into a new array of exactly its length.
    /// <paramref name="path"/> only names the file in errors.
    /// </summary>
    public static byte[] Decompress(ReadOnlySpan<byte> compressed, ModuleCompression kind, string path,
        long maxOutputBytes = DefaultMaxOutputBytes)
    {
        byte[] buffer = [];
        var length = Decompress(compressed, kind, path, ref buffer, maxOutputBytes);
        return buffer.Length == length ? buffer : buffer.AsSpan(0, length).ToArray();
    }

    /// <summary>
    /// Decompresses into <paramref name="buffer"/>, replacing it with a larger array when it is too
    /// small, and returns the decompressed length. Meant for a caller that reads many modules on
    /// one thread and keeps one buffer per thread. <see cref="ModuleCompression.None"/> copies.
    /// </summary>
    public static int Decompress(ReadOnlySpan<byte> compressed, ModuleCompression kind, string path,
        ref byte[] buffer, long maxOutputBytes = DefaultMaxOutputBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegative(maxOutputBytes);
        // One less than the largest array, so that limit + 1 still fits in one.
        var limit = Math.Min(maxOutputBytes, Array.MaxLength - 1);
        var output = new DecompressionOutput(buffer, limit);
        switch (kind)
        {
            case ModuleCompression.None:
                if (compressed.Length > limit)
                    throw new ModuleFormatException(path, -1, $"is larger than the limit of {limit:N0} bytes");
                output.Reserve(compressed.Length);
                compressed.CopyTo(output.Buffer);
                output.Length = compressed.Length;
                break;
            case ModuleCompression.Gzip:
                GzipDecoder.Decompress(compressed, ref output, path);
                break;
            case ModuleCompression.Xz:
                DecompressXz(compressed, ref output, path, limit);
                break;
            case ModuleCompression.Zstd:
                output.Reserve(compressed.Length * 4L);
                ZstdDecoder.Default(path).Decompress(compressed, ref output, path);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a compression this engine knows");
        }
        buffer = output.Buffer;
        return output.Length;
    }

    /// <summary>
    /// xz says nothing of the decompressed size up front. Modules compress about 5:1, so the first
    /// attempt gets room for 8:1 and that as its limit; a file that needs more is measured with a
    /// small scratch buffer (refused there if it passes the real limit, having allocated nothing
    /// for it) and decompressed again into an array of exactly its size. Doubling up to the limit
    /// instead would hold the old and the new array at once: 1.2 GB peak for a 90 KB bomb.
    /// </summary>
    private static void DecompressXz(ReadOnlySpan<byte> compressed, ref DecompressionOutput output, string path, long limit)
    {
        var decoder = LzmaDecoder.Default(path);
        var guess = Math.Min(limit, Math.Max(compressed.Length * 8L, 1L << 20));
        var first = new DecompressionOutput(output.Buffer, guess);
        first.Reserve(guess + 1);
        try
        {
            decoder.Decompress(compressed, ref first, path);
            output.Buffer = first.Buffer;
            output.Length = first.Length;
            return;
        }
        catch (ModuleFormatException) when (first.LimitReached && guess < limit)
        {
        }
        var size = decoder.MeasureDecompressedSize(compressed, limit, path);
        var exact = new DecompressionOutput(first.Buffer.Length > size ? first.Buffer : GC.AllocateUninitializedArray<byte>((int)size + 1), limit);
        decoder.Decompress(compressed, ref exact, path);
        output.Buffer = exact.Buffer;
        output.Length = exact.Length;
    }
}
