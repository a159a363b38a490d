using System.IO.Compression;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// gzip decompression with .NET's own zlib (System.IO.Compression): nothing to install. It reads
/// concatenated members as one, as gzread does for kmod, and zlib checks each member's CRC-32.
/// </summary>
internal static unsafe class GzipDecoder
{
    public static void Decompress(ReadOnlySpan<byte> input, ref DecompressionOutput output, string path)
    {
        // ISIZE, the last member's length mod 2^32, sizes the buffer: only a hint.
        if (input.Length >= 18)
            output.Reserve(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(input[^4..]) + 1L);
        fixed (byte* inp = input)
        {
            using var source = new UnmanagedMemoryStream(inp, input.Length);
            using var gzip = new GZipStream(source, CompressionMode.Decompress);
            try
            {
                while (true)
                {
                    output.EnsureSpace(path);
                    var n = gzip.Read(output.Buffer, output.Length, output.Buffer.Length - output.Length);
                    if (n == 0)
                        break;
                    output.Length += n;
                    output.CheckLimit(path);
                }
            }
            catch (InvalidDataException e)
            {
                throw new ModuleFormatException(path, -1, $"the gzip data is corrupt ({e.Message.TrimEnd('.')})", e);
            }
        }
    }
}
