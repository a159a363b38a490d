using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;

namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// Streams /proc/kallsyms under a <see cref="SystemRoot"/>: lines
/// <c>address type name</c>, with <c>\t[module]</c> after the name for a module's symbols.
/// </summary>
/// <remarks>
/// The file has about 120,000 lines on a distribution kernel and the kernel generates it on every
/// read, so the reader parses bytes in one pooled buffer and, when given a
/// <see cref="SymbolNameFilter"/>, allocates nothing for a line that does not match. Owner names
/// are interned: thousands of symbols share one string per module.
/// The kernel decides once per open whether this reader may see addresses (kptr_restrict and
/// CAP_SYSLOG); if not, it prints 0 everywhere, and this reader reports null addresses instead.
/// </remarks>
public sealed class KallsymsReader
{
    public const string SystemPath = "/proc/kallsyms";

    /// <summary>The kernel's KSYM_NAME_LEN: no name is longer.</summary>
    private const int MaxName = 512;

    private const int BufferSize = 64 * 1024;

    public KallsymsReader(SystemRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        Root = root;
        Path = root.Resolve(SystemPath);
    }

    public SystemRoot Root { get; }

    /// <summary>/proc/kallsyms under the root.</summary>
    public string Path { get; }

    /// <summary>False when the kernel has no CONFIG_KALLSYMS (or /proc is not mounted).</summary>
    public bool Exists => File.Exists(Path);

    /// <summary>
    /// The symbols, streamed in the file's order (kernel image first, then modules).
    /// <paramref name="name"/> is tested before anything is allocated for a line;
    /// <paramref name="owner"/> gets the owning module's name, null for the kernel image.
    /// </summary>
    /// <exception cref="FileNotFoundException">When enumeration starts and the file does not exist.</exception>
    /// <exception cref="ModuleFormatException">A line is not in the kernel's format.</exception>
    public IEnumerable<KallsymsEntry> Read(SymbolNameFilter? name = null, Func<string?, bool>? owner = null) =>
        new Symbols<KallsymsEntry>(Path, Root, name, owner, MakeEntry);

    /// <summary>
    /// The same stream, each symbol made by <paramref name="make"/> from its name, address (null
    /// when hidden), type letter and owner: a caller that turns every symbol into an object of its
    /// own (a whole listing is 120,000 of them) then allocates no <see cref="KallsymsEntry"/> in between.
    /// </summary>
    public IEnumerable<T> Read<T>(SymbolNameFilter? name, Func<string, ulong?, char, string?, T> make) where T : class
    {
        ArgumentNullException.ThrowIfNull(make);
        return new Symbols<T>(Path, Root, name, null, make);
    }

    private static readonly Func<string, ulong?, char, string?, KallsymsEntry> MakeEntry = static (n, a, t, m) => new KallsymsEntry(n, a, t, m);

    /// <summary>
    /// Whether the kernel hides addresses from this process: true when the first text symbol reads
    /// as address 0 (text is never at 0, so only hiding produces it).
    /// </summary>
    public bool AreAddressesHidden()
    {
        using var e = new Enumerator<KallsymsEntry>(Path, Root, static _ => false, null, MakeEntry, readAhead: false);
        return e.AddressesHidden;
    }

    private sealed class Symbols<T>(string path, SystemRoot root, SymbolNameFilter? name, Func<string?, bool>? owner,
        Func<string, ulong?, char, string?, T> make) : IEnumerable<T> where T : class
    {
        public IEnumerator<T> GetEnumerator() => new Enumerator<T>(path, root, name, owner, make);
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A hand-written enumerator because spans cannot live across an iterator's yield.</summary>
    private sealed class Enumerator<T> : IEnumerator<T> where T : class
    {
        private readonly Func<string, ulong?, char, string?, T> _make;
        private readonly string _path;
        private readonly SymbolNameFilter? _nameFilter;
        private readonly Func<string?, bool>? _ownerFilter;
        private readonly FileStream _stream;
        private ReadAhead? _readAhead;
        private byte[]? _buffer;
        private int _start;      // first unparsed byte
        private int _end;        // end of valid data
        private long _consumed;  // file offset of _buffer[0], for error messages
        private bool _eof;
        private readonly char[] _chars = new char[MaxName * 2]; // name, then owner: decoded once per line, reused
        private readonly Dictionary<string, string> _owners = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _ownerLookup;

        public Enumerator(string path, SystemRoot root, SymbolNameFilter? name, Func<string?, bool>? owner,
            Func<string, ulong?, char, string?, T> make, bool readAhead = true)
        {
            _make = make;
            _path = path;
            _nameFilter = name;
            _ownerFilter = owner;
            _ownerLookup = _owners.GetAlternateLookup<ReadOnlySpan<char>>();
            // bufferSize 0: our own buffer is the only one; procfs reports size 0, so no length checks.
            try
            {
                // Never blocks on a FIFO, refuses devices, and stays inside the root.
                _stream = Files.SafeFile.OpenStream(path, Files.FileLimits.SymbolTable, root.Within(path));
            }
            catch (DirectoryNotFoundException e)
            {
                throw new FileNotFoundException($"Could not find file '{path}'.", path, e);
            }
            _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                Fill();
                AddressesHidden = DetectHidden();
                // The kernel formats the file as it is read, and that is most of the time spent:
                // when more than one buffer's worth follows, a second thread reads ahead while
                // this one parses (and the caller consumes), as a pipe between cat and a parser would.
                if (!_eof && readAhead)
                    _readAhead = new ReadAhead(_stream);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public bool AddressesHidden { get; }

        public T Current { get; private set; } = null!;
        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            var chars = _chars.AsSpan();
            while (true)
            {
                var buf = _buffer!;
                var nl = buf.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                if (nl < 0)
                {
                    if (_eof)
                    {
                        if (_start == _end) return false;
                        nl = _end - _start; // last line without a newline (a hand-written fixture)
                    }
                    else
                    {
                        Fill();
                        continue;
                    }
                }
                var line = buf.AsSpan(_start, nl);
                var lineOffset = _consumed + _start;
                _start = Math.Min(_start + nl + 1, _end);
                if (line.IsEmpty) continue;
                if (TryParse(line, lineOffset, chars, out var symbol))
                {
                    Current = symbol;
                    return true;
                }
            }
        }

        private bool TryParse(ReadOnlySpan<byte> line, long offset, Span<char> chars, out T symbol)
        {
            symbol = null!;
            var sp1 = line.IndexOf((byte)' ');
            if (sp1 <= 0 || sp1 + 3 > line.Length || line[sp1 + 2] != (byte)' ')
                throw Bad(offset, "expected 'address type name'", line);
            var type = (char)line[sp1 + 1];
            var rest = line[(sp1 + 3)..];

            ReadOnlySpan<byte> nameBytes = rest, ownerBytes = default;
            var tab = rest.IndexOf((byte)'\t');
            if (tab >= 0)
            {
                nameBytes = rest[..tab];
                var m = rest[(tab + 1)..].TrimEnd((byte)' ');
                if (m.Length < 2 || m[0] != (byte)'[' || m[^1] != (byte)']')
                    throw Bad(offset, "the owner is not '[module]'", line);
                ownerBytes = m[1..^1];
                // Found by fuzzing: an owner longer than the decode buffer threw ArgumentException.
                if (ownerBytes.Length > MaxName)
                    throw Bad(offset, "the owner module's name is longer than the kernel allows", line);
            }
            if (nameBytes.IsEmpty || nameBytes.Length > MaxName)
                throw Bad(offset, "the symbol name is empty or longer than the kernel allows", line);

            // The cheap, common rejection first: most lines fail the name filter, and for them
            // neither the owner nor the address needs decoding. Without a filter every name
            // becomes a string: decoded straight into it, not through the buffer.
            string? name = null;
            if (_nameFilter is not null)
            {
                var nameLength = Encoding.UTF8.GetChars(nameBytes, chars);
                if (!_nameFilter(chars[..nameLength])) return false;
                name = chars[..nameLength].ToString();
            }

            string? owner = null;
            if (!ownerBytes.IsEmpty)
            {
                var ownerChars = chars[MaxName..];
                var n = Encoding.UTF8.GetChars(ownerBytes, ownerChars);
                if (!_ownerLookup.TryGetValue(ownerChars[..n], out owner))
                {
                    owner = ownerChars[..n].ToString();
                    _owners[owner] = owner;
                }
            }
            if (_ownerFilter is not null && !_ownerFilter(owner)) return false;

            if (!ulong.TryParse(line[..sp1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var address))
                throw Bad(offset, "the address is not hexadecimal", line);

            symbol = _make(name ?? Encoding.UTF8.GetString(nameBytes), AddressesHidden ? null : address, type, owner);
            return true;
        }

        /// <summary>Moves the unparsed tail to the front and reads until the buffer is full or the file ends.</summary>
        private void Fill()
        {
            var buf = _buffer!;
            if (_start > 0)
            {
                buf.AsSpan(_start, _end - _start).CopyTo(buf);
                _consumed += _start;
                _end -= _start;
                _start = 0;
            }
            // procfs gives about a page per read: keep reading so that a buffer holds many lines.
            while (_end < buf.Length)
            {
                var n = _readAhead is { } ahead ? ahead.Read(buf.AsSpan(_end)) : _stream.Read(buf, _end, buf.Length - _end);
                if (n == 0) { _eof = true; break; }
                _end += n;
            }
            if (_consumed + _end > Files.FileLimits.SymbolTable.MaxBytes)
                throw Files.SafeFile.TooLarge(_path, Files.FileLimits.SymbolTable, _consumed + _end);
            if (_end == buf.Length && buf.AsSpan(0, _end).IndexOf((byte)'\n') < 0)
                throw Bad(_consumed, $"a line is longer than {BufferSize} bytes", buf.AsSpan(0, 80));
        }

        /// <summary>
        /// The first text symbol in the first buffer tells: the kernel prints every address as 0
        /// when it hides them, and no code lives at address 0.
        /// </summary>
        private bool DetectHidden()
        {
            var data = _buffer!.AsSpan(0, _end);
            while (!data.IsEmpty)
            {
                var nl = data.IndexOf((byte)'\n');
                var line = nl < 0 ? data : data[..nl];
                var sp = line.IndexOf((byte)' ');
                if (sp > 0 && sp + 1 < line.Length && (line[sp + 1] | 0x20) == (byte)'t')
                    return line[..sp].IndexOfAnyExcept((byte)'0') < 0;
                if (nl < 0) break;
                data = data[(nl + 1)..];
            }
            return false;
        }

        private ModuleFormatException Bad(long offset, string problem, ReadOnlySpan<byte> line) =>
            new(_path, offset, $"{problem}: '{Encoding.UTF8.GetString(line[..Math.Min(line.Length, 120)])}'");

        public void Reset() => throw new NotSupportedException();

        public void Dispose()
        {
            _readAhead?.Dispose();
            _stream.Dispose();
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }
        }
    }

    /// <summary>
    /// Reads a stream ahead on a thread of its own, into a few chunks handed over in order, so
    /// that the reading (for /proc/kallsyms: the kernel formatting the file) overlaps the parsing.
    /// Memory is bounded by <see cref="Chunks"/> chunks whatever the file's length. An error of
    /// the reading thread is thrown by <see cref="Read"/>, in order.
    /// </summary>
    private sealed class ReadAhead : IDisposable
    {
        private const int Chunks = 4;
        private readonly System.Collections.Concurrent.BlockingCollection<(byte[]? Data, int Length, Exception? Error)> _full = new(Chunks);
        private readonly System.Collections.Concurrent.BlockingCollection<byte[]> _empty = new(Chunks);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _reader;
        private byte[]? _current;
        private int _position, _length;
        private bool _done;

        private readonly byte[][] _chunks = new byte[Chunks][];

        public ReadAhead(Stream stream)
        {
            // Pooled, like the parser's buffer: a search allocates next to nothing but its results.
            for (var i = 0; i < Chunks; i++)
                _empty.Add(_chunks[i] = ArrayPool<byte>.Shared.Rent(BufferSize));
            _reader = Task.Factory.StartNew(() => Run(stream), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        private void Run(Stream stream)
        {
            try
            {
                while (true)
                {
                    var chunk = _empty.Take(_stop.Token);
                    var filled = 0;
                    while (filled < BufferSize)
                    {
                        var n = stream.Read(chunk, filled, BufferSize - filled);
                        if (n == 0) break;
                        filled += n;
                    }
                    _full.Add((chunk, filled, null), _stop.Token);
                    if (filled < BufferSize)
                    {
                        _full.Add((null, 0, null), _stop.Token); // end of file
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                try { _full.Add((null, 0, e), _stop.Token); } catch (OperationCanceledException) { }
            }
        }

        /// <summary>Up to <paramref name="into"/>'s length of the next bytes; 0 at the end.</summary>
        public int Read(Span<byte> into)
        {
            while (_current is null || _position == _length)
            {
                if (_current is not null)
                {
                    _empty.Add(_current);
                    _current = null;
                }
                if (_done)
                    return 0;
                var (data, length, error) = _full.Take();
                if (error is not null)
                {
                    _done = true;
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
                }
                if (data is null)
                {
                    _done = true;
                    return 0;
                }
                (_current, _position, _length) = (data, 0, length);
            }
            var n = Math.Min(into.Length, _length - _position);
            _current.AsSpan(_position, n).CopyTo(into);
            _position += n;
            return n;
        }

        public void Dispose()
        {
            _stop.Cancel();
            try { _reader.Wait(); } catch (AggregateException) { }
            _stop.Dispose();
            _full.Dispose();
            _empty.Dispose();
            foreach (var chunk in _chunks)
                ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
