using System.Buffers.Binary;
using System.IO.Compression;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// gzip decompression with .NET's own zlib (System.IO.Compression): nothing to install. It reads
/// concatenated members as one, as gzread does for kmod.
/// </summary>
internal static unsafe class GzipDecoder
{

    private static readonly uint[] CrcTable = BuildCrcTable();

    public static void Decompress(ReadOnlySpan<byte> input, ref DecompressionOutput output, string path)
    {
        if (input.Length < 18)
            throw new ModuleFormatException(path, -1, "the gzip data is truncated (shorter than a gzip header and trailer)");
        // ISIZE, the last member's length mod 2^32, sizes the buffer: only a hint.
        output.Reserve(BinaryPrimitives.ReadUInt32LittleEndian(input[^4..]) + 1L);
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
        CheckLastMember(input, output.Buffer.AsSpan(0, output.Length), path);
    }

    /// <summary>
    /// GZipStream ends quietly when the input runs out mid-member, so a truncated file would pass
    /// as a shorter module. A complete file ends with its last member's trailer: ISIZE says how many
    /// of the output's last bytes that member made, and their CRC-32 must match. (A cut exactly
    /// between members leaves a valid gzip file; nothing can tell that apart.)
    /// </summary>
    private static void CheckLastMember(ReadOnlySpan<byte> input, ReadOnlySpan<byte> output, string path)
    {
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(input[^8..]);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(input[^4..]);
        // ISIZE is mod 2^32: the member may be 4 GiB longer, which the output limit excludes anyway.
        if (size > output.Length || Crc32(output[^(int)size..]) != crc)
            throw new ModuleFormatException(path, -1, "the gzip data is truncated or corrupt (its last member's CRC-32 and length do not match the data)");
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    // The gzip CRC-32 (reflected polynomial 0xEDB88320); System.IO.Hashing would be a package.
    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
