using System.Security.Cryptography;
using System.Text;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// One module's <see cref="ModuleFacts"/> encoded as bytes, with their SHA-256. The digest is
/// what a run compares to learn whether the module still says what it said last time (see
/// <see cref="DepmodOutputRecord"/>), and what guards the bytes in <see cref="DepmodCache"/>:
/// <see cref="Decode"/> refuses bytes that do not match it.
/// </summary>
internal sealed class ModuleFactsBlob
{
    public ModuleFactsBlob(ReadOnlyMemory<byte> bytes, byte[] digest)
    {
        _bytes = bytes;
        Digest = digest;
    }

    /// <summary>Facts kept in a cache's facts file: the bytes are fetched only when asked for.</summary>
    public ModuleFactsBlob(DepmodCache source, long offset, int length, byte[] digest)
    {
        Source = source;
        Offset = offset;
        Length = length;
        Digest = digest;
    }

    private ReadOnlyMemory<byte>? _bytes;

    /// <summary>The cache whose facts file holds these bytes at <see cref="Offset"/>; null for facts just read.</summary>
    public DepmodCache? Source { get; }
    public long Offset { get; }
    public int Length { get; }

    public ReadOnlyMemory<byte> Bytes => _bytes ??= Source!.ReadFacts(Offset, Length);

    /// <summary>SHA-256 of <see cref="Bytes"/>.</summary>
    public byte[] Digest { get; }

    /// <summary>Encodes the facts depmod uses (not <see cref="ModuleFacts.Problem"/>, which is never cached).</summary>
    public static ModuleFactsBlob Encode(ModuleFacts facts)
    {
        var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(facts.Exports.Length);
            foreach (var e in facts.Exports) { w.Write(e.Name); w.Write(e.Crc); }
            w.Write(facts.Needs.Length);
            foreach (var n in facts.Needs) { w.Write(n.Name); w.Write(n.Crc); w.Write(n.IsWeak); }
            WriteStrings(w, facts.Aliases);
            WriteStrings(w, facts.Softdeps);
            WriteStrings(w, facts.Weakdeps);
        }
        var bytes = stream.ToArray();
        return new ModuleFactsBlob(bytes, SHA256.HashData(bytes));
    }

    /// <summary>The facts again. <exception cref="InvalidDataException">The bytes do not match their digest or are malformed.</exception></summary>
    public ModuleFacts Decode()
    {
        if (!SHA256.HashData(Bytes.Span).AsSpan().SequenceEqual(Digest))
            throw new InvalidDataException("checksum mismatch");
        try
        {
            using var reader = new BinaryReader(new ReadOnlyMemoryStream(Bytes), Encoding.UTF8);
            var exports = new ProvidedSymbol[ReadCount(reader, 1 + 8)];
            for (var j = 0; j < exports.Length; j++) exports[j] = new ProvidedSymbol(reader.ReadString(), reader.ReadUInt64());
            var needs = new NeededSymbol[ReadCount(reader, 1 + 8 + 1)];
            for (var j = 0; j < needs.Length; j++) needs[j] = new NeededSymbol(reader.ReadString(), reader.ReadUInt64(), reader.ReadBoolean());
            var facts = new ModuleFacts(exports, needs, ReadStrings(reader), ReadStrings(reader), ReadStrings(reader), null);
            if (reader.BaseStream.Position != reader.BaseStream.Length)
                throw new InvalidDataException("trailing bytes");
            return facts;
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or FormatException or IOException)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }

    // A count of items, each taking at least `smallest` bytes (a string: its length byte).
    private static int ReadCount(BinaryReader reader, int smallest = 1)
    {
        var n = reader.ReadInt32();
        // More items than the bytes left can hold cannot be right; refuse it before allocating
        // (an array of n items costs several times n bytes).
        if (n < 0 || n > (reader.BaseStream.Length - reader.BaseStream.Position) / smallest)
            throw new InvalidDataException("bad count");
        return n;
    }

    private static string[] ReadStrings(BinaryReader reader)
    {
        var a = new string[ReadCount(reader)];
        for (var i = 0; i < a.Length; i++) a[i] = reader.ReadString();
        return a;
    }

    private static void WriteStrings(BinaryWriter w, string[] values)
    {
        w.Write(values.Length);
        foreach (var v in values) w.Write(v);
    }

    /// <summary>A read-only stream over memory the cache file's one array holds (no copy).</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => memory.Length;
        public override long Position { get => _position; set => _position = (int)Math.Clamp(value, 0, memory.Length); }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, memory.Length - _position);
            memory.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
        public override int ReadByte() => _position < memory.Length ? memory.Span[_position++] : -1;
        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => memory.Length + offset,
        };
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
