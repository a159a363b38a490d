using System.Runtime.InteropServices;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// xz decompression through the system's liblzma.so.5 (lzma_stream_decoder, lzma_code, lzma_end),
/// as kmod does. One lzma_stream per call, on the stack, so calls on several threads never share state.
/// </summary>
internal sealed unsafe class LzmaDecoder
{
    public const string DefaultLibrary = "liblzma.so.5";
    public const string Package = "liblzma5";

    // The decoder's own memory (dictionary and state) is bounded separately from the output: a
    // header may ask for a dictionary of up to 1.5 GiB. Kernel modules use 1 MiB (the in-kernel
    // decompressor requires a small one); xz -9 needs about 65 MiB, so 80 MiB rejects only abuse
    // (and keeps a hostile file's dictionary from adding hundreds of MiB to the process).
    private const ulong MemoryLimit = 80UL << 20;

    private const uint LZMA_CONCATENATED = 0x08;
    private const int LZMA_FINISH = 3;

    private const int LZMA_OK = 0;
    private const int LZMA_STREAM_END = 1;

    private static readonly Lazy<(LzmaDecoder? Decoder, string? Error)> s_default =
        new(() => { var d = TryCreate(DefaultLibrary, out var e); return (d, e); }, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly delegate* unmanaged<LzmaStream*, ulong, uint, int> _streamDecoder;
    private readonly delegate* unmanaged<LzmaStream*, int, int> _code;
    private readonly delegate* unmanaged<LzmaStream*, void> _end;

    private LzmaDecoder(nint streamDecoder, nint code, nint end)
    {
        _streamDecoder = (delegate* unmanaged<LzmaStream*, ulong, uint, int>)streamDecoder;
        _code = (delegate* unmanaged<LzmaStream*, int, int>)code;
        _end = (delegate* unmanaged<LzmaStream*, void>)end;
    }

    /// <summary>The decoder over liblzma.so.5, loaded once; throws when the library is missing.</summary>
    public static LzmaDecoder Default(string path) =>
        s_default.Value.Decoder ?? throw new NativeLibraryMissingException(path, ModuleCompression.Xz, DefaultLibrary, Package, s_default.Value.Error);

    /// <summary>Binds to a named library (tests use a name that does not exist).</summary>
    public static LzmaDecoder? TryCreate(string library, out string? error)
    {
        var lib = NativeCodecLibrary.TryLoad(library, out error);
        if (lib is null)
            return null;
        var init = lib.TryGetExport("lzma_stream_decoder");
        var code = lib.TryGetExport("lzma_code");
        var end = lib.TryGetExport("lzma_end");
        if (init is null || code is null || end is null)
        {
            error = $"{library} lacks lzma_stream_decoder, lzma_code or lzma_end";
            return null;
        }
        return new LzmaDecoder(init.Value, code.Value, end.Value);
    }

    /// <summary>
    /// The decompressed size, found by decoding into one small scratch buffer and counting: memory
    /// independent of the size. Throws the decompression-bomb error as soon as the count passes
    /// <paramref name="limit"/>, and the format errors <see cref="Decompress"/> would.
    /// </summary>
    public long MeasureDecompressedSize(ReadOnlySpan<byte> input, long limit, string path)
    {
        LzmaStream strm = default;
        var ret = _streamDecoder(&strm, MemoryLimit, LZMA_CONCATENATED);
        if (ret != LZMA_OK)
            throw Fail(path, ret, 0);
        var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            fixed (byte* inp = input)
            fixed (byte* outp = scratch)
            {
                strm.next_in = inp;
                strm.avail_in = (nuint)input.Length;
                while (true)
                {
                    strm.next_out = outp;
                    strm.avail_out = (nuint)scratch.Length;
                    ret = _code(&strm, LZMA_FINISH);
                    if ((long)strm.total_out > limit)
                        throw DecompressionOutput.Bomb(path, limit);
                    if (ret == LZMA_STREAM_END)
                        return (long)strm.total_out;
                    if (ret != LZMA_OK)
                        throw Fail(path, ret, (long)strm.total_in);
                }
            }
        }
        finally
        {
            _end(&strm);
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    public void Decompress(ReadOnlySpan<byte> input, ref DecompressionOutput output, string path)
    {
        LzmaStream strm = default; // LZMA_STREAM_INIT is all zeroes
        var ret = _streamDecoder(&strm, MemoryLimit, LZMA_CONCATENATED);
        if (ret != LZMA_OK)
            throw Fail(path, ret, 0);
        try
        {
            fixed (byte* inp = input)
            {
                strm.next_in = inp;
                strm.avail_in = (nuint)input.Length;
                while (true)
                {
                    output.EnsureSpace(path);
                    fixed (byte* outp = output.Buffer)
                    {
                        strm.next_out = outp + output.Length;
                        strm.avail_out = (nuint)(output.Buffer.Length - output.Length);
                        // LZMA_FINISH: all input is there, so running out of it means truncation,
                        // reported as LZMA_BUF_ERROR rather than a request for more.
                        ret = _code(&strm, LZMA_FINISH);
                        output.Length = output.Buffer.Length - (int)strm.avail_out;
                    }
                    output.CheckLimit(path);
                    if (ret == LZMA_STREAM_END)
                        return;
                    if (ret != LZMA_OK)
                        throw Fail(path, ret, (long)strm.total_in);
                }
            }
        }
        finally
        {
            _end(&strm);
        }
    }

    private static ModuleFormatException Fail(string path, int ret, long compressedOffset)
    {
        var what = ret switch
        {
            2 => "the xz stream has no integrity check", // LZMA_NO_CHECK, not returned without LZMA_TELL_NO_CHECK
            3 => "the xz stream uses an integrity check liblzma does not support", // LZMA_UNSUPPORTED_CHECK
            5 => "liblzma could not allocate memory", // LZMA_MEM_ERROR
            6 => $"the xz stream needs more than {MemoryLimit >> 20} MiB of decoder memory", // LZMA_MEMLIMIT_ERROR
            7 => "the xz data is not in xz format", // LZMA_FORMAT_ERROR
            8 => "the xz stream uses unsupported options", // LZMA_OPTIONS_ERROR
            9 => "the xz data is corrupt", // LZMA_DATA_ERROR
            10 => "the xz data is truncated", // LZMA_BUF_ERROR: no progress possible with all input given
            _ => $"liblzma failed with code {ret}",
        };
        return new ModuleFormatException(path, -1, $"{what} (near compressed byte {compressedOffset})");
    }

    // lzma_stream from <lzma/base.h> (liblzma 5.x), for LP64 targets (x86_64, aarch64).
    [StructLayout(LayoutKind.Sequential)]
    private struct LzmaStream
    {
        public byte* next_in;
        public nuint avail_in;
        public ulong total_in;
        public byte* next_out;
        public nuint avail_out;
        public ulong total_out;
        public nint allocator;
        public nint @internal;
        public nint reserved_ptr1;
        public nint reserved_ptr2;
        public nint reserved_ptr3;
        public nint reserved_ptr4;
        public ulong seek_pos;
        public ulong reserved_int2;
        public nuint reserved_int3;
        public nuint reserved_int4;
        public int reserved_enum1;
        public int reserved_enum2;
    }
}
