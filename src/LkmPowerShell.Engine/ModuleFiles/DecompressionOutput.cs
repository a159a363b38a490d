namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// The growing output of one decompression, capped at a limit: the buffer never exceeds
/// limit + 1 bytes, and producing that one byte more is how a decompression bomb is recognised.
/// The buffer may be one the caller reuses across files (depmod reads thousands).
/// </summary>
internal struct DecompressionOutput
{
    private const int MinimumGrowth = 64 * 1024;

    public DecompressionOutput(byte[] buffer, long limit)
    {
        Buffer = buffer;
        Limit = limit;
    }

    public byte[] Buffer;
    public int Length;
    public readonly long Limit;

    /// <summary>Makes room for more output, keeping what is there.</summary>
    public void EnsureSpace(string path)
    {
        if (Length < Buffer.Length)
            return;
        var cap = Limit + 1;
        if (Buffer.Length >= cap)
            throw Bomb(path);
        var grown = Math.Min(Math.Max((long)Buffer.Length * 2, MinimumGrowth), cap);
        var next = GC.AllocateUninitializedArray<byte>((int)grown);
        Buffer.AsSpan(0, Length).CopyTo(next);
        Buffer = next;
    }

    /// <summary>Starts with room for about <paramref name="expected"/> bytes when the buffer is smaller.</summary>
    public void Reserve(long expected)
    {
        var want = Math.Min(Math.Max(expected, MinimumGrowth), Limit + 1);
        if (Buffer.Length < want)
            Buffer = GC.AllocateUninitializedArray<byte>((int)want);
    }

    public void CheckLimit(string path)
    {
        if (Length > Limit)
            throw Bomb(path);
    }

    /// <summary>Set when the output passed <see cref="Limit"/>: a first, guessed limit the caller may retry past.</summary>
    public bool LimitReached;

    private ModuleFormatException Bomb(string path)
    {
        LimitReached = true;
        return Bomb(path, Limit);
    }

    public static ModuleFormatException Bomb(string path, long limit) =>
        new(path, -1, $"decompresses to more than the limit of {limit:N0} bytes (a decompression bomb, or a limit set too low)");
}
