using System.Runtime.InteropServices;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// zstd decompression through the system's libzstd.so.1 (ZSTD_decompressStream), as kmod does.
/// One ZSTD_DCtx per call, so calls on several threads never share state. libzstd's default
/// window limit (2^27 bytes) bounds its own memory.
/// </summary>
internal sealed unsafe class ZstdDecoder
{
    public const string DefaultLibrary = "libzstd.so.1";
    public const string Package = "libzstd1";

    private const ulong ContentSizeUnknown = ulong.MaxValue;      // ZSTD_CONTENTSIZE_UNKNOWN
    private const ulong ContentSizeError = ulong.MaxValue - 1;    // ZSTD_CONTENTSIZE_ERROR

    private static readonly Lazy<(ZstdDecoder? Decoder, string? Error)> s_default =
        new(() => { var d = TryCreate(DefaultLibrary, out var e); return (d, e); }, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly delegate* unmanaged<nint> _createDCtx;
    private readonly delegate* unmanaged<nint, nuint> _freeDCtx;
    private readonly delegate* unmanaged<nint, Buffer*, InBuffer*, nuint> _decompressStream;
    private readonly delegate* unmanaged<nuint, uint> _isError;
    private readonly delegate* unmanaged<nuint, byte*> _getErrorName;
    private readonly delegate* unmanaged<byte*, nuint, ulong> _getFrameContentSize;

    private ZstdDecoder(nint[] f)
    {
        _createDCtx = (delegate* unmanaged<nint>)f[0];
        _freeDCtx = (delegate* unmanaged<nint, nuint>)f[1];
        _decompressStream = (delegate* unmanaged<nint, Buffer*, InBuffer*, nuint>)f[2];
        _isError = (delegate* unmanaged<nuint, uint>)f[3];
        _getErrorName = (delegate* unmanaged<nuint, byte*>)f[4];
        _getFrameContentSize = (delegate* unmanaged<byte*, nuint, ulong>)f[5];
    }

    /// <summary>The decoder over libzstd.so.1, loaded once; throws when the library is missing.</summary>
    public static ZstdDecoder Default(string path) =>
        s_default.Value.Decoder ?? throw new NativeLibraryMissingException(path, ModuleCompression.Zstd, DefaultLibrary, Package, s_default.Value.Error);

    /// <summary>Binds to a named library (tests use a name that does not exist).</summary>
    public static ZstdDecoder? TryCreate(string library, out string? error)
    {
        var lib = NativeCodecLibrary.TryLoad(library, out error);
        if (lib is null)
            return null;
        string[] names = ["ZSTD_createDCtx", "ZSTD_freeDCtx", "ZSTD_decompressStream", "ZSTD_isError", "ZSTD_getErrorName", "ZSTD_getFrameContentSize"];
        var f = new nint[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            if (lib.TryGetExport(names[i]) is not { } address)
            {
                error = $"{library} lacks {names[i]} (libzstd 1.3 or later is needed)";
                return null;
            }
            f[i] = address;
        }
        return new ZstdDecoder(f);
    }

    public void Decompress(ReadOnlySpan<byte> input, ref DecompressionOutput output, string path)
    {
        fixed (byte* inp = input)
        {
            // The frame header's content size, when present, sizes the buffer in one go; it is
            // only a hint (a lie costs a regrowth, never more than the limit).
            var declared = _getFrameContentSize(inp, (nuint)input.Length);
            if (declared is not ContentSizeUnknown and not ContentSizeError)
                output.Reserve((long)Math.Min(declared + 1, long.MaxValue));

            var dctx = _createDCtx();
            if (dctx == 0)
                throw new ModuleFormatException(path, -1, "libzstd could not allocate a decompression context");
            try
            {
                var inBuf = new InBuffer { src = inp, size = (nuint)input.Length, pos = 0 };
                while (true)
                {
                    output.EnsureSpace(path);
                    nuint ret;
                    bool outputFull;
                    var before = (inBuf.pos, output.Length);
                    fixed (byte* outp = output.Buffer)
                    {
                        var outBuf = new Buffer { dst = outp + output.Length, size = (nuint)(output.Buffer.Length - output.Length), pos = 0 };
                        ret = _decompressStream(dctx, &outBuf, &inBuf);
                        output.Length += (int)outBuf.pos;
                        outputFull = outBuf.pos == outBuf.size;
                    }
                    output.CheckLimit(path);
                    if (_isError(ret) != 0)
                        throw new ModuleFormatException(path, -1,
                            $"the zstd data is corrupt ({Marshal.PtrToStringUTF8((nint)_getErrorName(ret))}, near compressed byte {inBuf.pos})");
                    var inputDone = inBuf.pos == inBuf.size;
                    // 0: a frame is complete and flushed; more input may hold another frame.
                    if (ret == 0 && inputDone)
                        return;
                    // Output room left over means libzstd flushed all it could: if it still wants
                    // input and there is none, the frame was cut short.
                    if (inputDone && !outputFull)
                        throw new ModuleFormatException(path, -1, $"the zstd data is truncated (after {inBuf.pos} compressed bytes)");
                    // Never spin: libzstd promises progress while it has input and output room.
                    if (!outputFull && before == (inBuf.pos, output.Length))
                        throw new ModuleFormatException(path, -1, $"libzstd made no progress (near compressed byte {inBuf.pos})");
                }
            }
            finally
            {
                _freeDCtx(dctx);
            }
        }
    }

    // ZSTD_outBuffer and ZSTD_inBuffer from <zstd.h>.
    [StructLayout(LayoutKind.Sequential)]
    private struct Buffer
    {
        public byte* dst;
        public nuint size;
        public nuint pos;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct InBuffer
    {
        public byte* src;
        public nuint size;
        public nuint pos;
    }
}
