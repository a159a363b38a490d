using System.Buffers;
using LkmPowerShell.Engine.Elf;
using LkmPowerShell.Engine.Files;
using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// Reads one module file (plain or compressed) into a <see cref="ModuleFileInfo"/>. The file is
/// read with pread into a pooled buffer, never mapped, and nothing of the buffer outlives the call.
/// Every way a file can be unusable ends in one exception type per cause: FileNotFoundException
/// and UnauthorizedAccessException from the file system, <see cref="ModuleFormatException"/>
/// for the content.
/// </summary>
public static class ModuleFileReader
{
    /// <summary>
    /// The module's whole ELF image: the file read (bounded, non-blocking, inside
    /// <paramref name="within"/> when given) and decompressed when it is compressed, within the
    /// limits every reader of module files keeps (<see cref="FileLimits.ModuleFile"/>,
    /// <see cref="FileLimits.DecompressedModule"/>). For loading and for signature checks, which
    /// need every byte; <see cref="Read"/> reads only what a parse needs.
    /// </summary>
    public static byte[] ReadImage(string path, SystemRoot? within = null)
    {
        var bytes = SafeFile.ReadAll(path, FileLimits.ModuleFile, within);
        var compression = ModuleDecompressor.Detect(bytes);
        return compression == ModuleCompression.None ? bytes : ModuleDecompressor.Decompress(bytes, compression, path, FileLimits.DecompressedModule.MaxBytes);
    }

    /// <param name="path">The module file.</param>
    /// <param name="within">The root the path came from (a tree's modules.dep): it is then opened
    /// inside that root, as if chrooted. Null for a path the user gave.</param>
    /// <param name="detail">Whether the symbol lists are kept, or only counted (what modinfo's objects show).</param>
    /// <exception cref="FileRefusedException">A FIFO, device or folder, or a file over its limit.</exception>
    public static ModuleFileInfo Read(string path, SystemRoot? within = null, ModuleSymbolDetail detail = ModuleSymbolDetail.Lists)
    {
        SafeFile.RejectNul(path);
        var fullPath = PathShown(path, within);
        using var handle = SafeFile.Open(fullPath, FileLimits.ModuleFile, within, out var length);
        if (length == 0)
            throw new ModuleFormatException(fullPath, 0, "the file is empty");

        Span<byte> magic = stackalloc byte[ModuleDecompressor.MagicLength];
        var compression = ModuleDecompressor.Detect(magic[..SafeFile.ReadFully(handle, magic[..(int)Math.Min(length, magic.Length)], 0)]);
        if (compression == ModuleCompression.None)
            return ReadPlain(handle, length, fullPath, detail);

        // Compressed: the whole file, then the whole image, each in a pooled buffer.
        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        byte[]? image = null;
        try
        {
            var read = SafeFile.ReadFully(handle, buffer.AsSpan(0, (int)length), 0);
            // Room for the 8:1 the xz decoder tries first, so it does not allocate its own.
            image = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(read * 8L, 1L << 20) + 1, FileLimits.DecompressedModule.MaxBytes + 1));
            var output = image;
            var size = ModuleDecompressor.Decompress(buffer.AsSpan(0, read), compression, fullPath, ref output, FileLimits.DecompressedModule.MaxBytes);
            var bytes = output.AsMemory(0, size);
            return Parse(ElfImage.Parse(bytes, fullPath), ReadSignature(bytes.Span, size, fullPath), fullPath, length, compression, detail);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (image is not null)
                ArrayPool<byte>.Shared.Return(image);
        }
    }

    /// <summary>
    /// An uncompressed module: only what is used is read (the headers, the sections the facts come
    /// from, the signature block at the end), as kmod's mmap only touches those pages; most of a
    /// module is code and data that modinfo never looks at.
    /// </summary>
    private static ModuleFileInfo ReadPlain(SafeFileHandle handle, long length, string path, ModuleSymbolDetail detail)
    {
        using var source = new PooledFileSource(handle, length, path);
        var tail = source.ReadTail((int)Math.Min(length, TailGuess)).Span;
        (ModuleSignature?, string?) signature;
        try
        {
            var needed = ModuleSignature.SignatureBlockLength(tail, length, path);
            if (needed > tail.Length)
                tail = source.Get(length - needed, (int)needed).Span;
            signature = (ModuleSignature.TryRead(tail, length, path), null);
        }
        catch (ModuleFormatException e)
        {
            signature = (null, e.Problem);
        }
        return Parse(ElfImage.Parse(source, path), signature, path, length, ModuleCompression.None, detail);
    }

    /// <summary>
    /// How much of a file's end is read at once: the signature of every real module (Debian's are
    /// about 700 bytes) and, for most, the section headers and symbol tables before it.
    /// </summary>
    private const int TailGuess = 32 * 1024;

    /// <summary>
    /// The path a <see cref="ModuleFileInfo"/> read from <paramref name="path"/> will carry: made
    /// absolute on the host; a path from inside a root keeps its ".." for the contained open to resolve.
    /// </summary>
    public static string PathShown(string path, SystemRoot? within = null) =>
        within is null || within.IsHost ? System.IO.Path.GetFullPath(path) : path;

    /// <summary>
    /// Checks, without reading it, what <see cref="Read"/> checks before it reads: the file is
    /// there (inside the root), a regular file, within the size limit, not empty. Throws what
    /// Read would throw for each, so a listing that reads files later reports these at once.
    /// </summary>
    /// <returns>The file's size and last write time, which a listing shows without reading it.</returns>
    public static FileStamp Probe(string path, SystemRoot? within = null)
    {
        SafeFile.RejectNul(path);
        var fullPath = PathShown(path, within);
        // Named, never opened: a device in a hostile tree is refused without the effects of opening it.
        var stamp = SafeFile.ProbeStamp(fullPath, FileLimits.ModuleFile, within);
        return stamp.Size == 0 ? throw new ModuleFormatException(fullPath, 0, "the file is empty") : stamp;
    }

    /// <summary>Parses a module already in memory (the file's bytes, compressed or not).</summary>
    public static ModuleFileInfo Parse(ReadOnlyMemory<byte> fileBytes, string path, long fileSize, ModuleSymbolDetail detail = ModuleSymbolDetail.Lists)
    {
        var compression = ModuleDecompressor.Detect(fileBytes.Span);
        var image = compression == ModuleCompression.None
            ? fileBytes
            : ModuleDecompressor.Decompress(fileBytes.Span, compression, path, FileLimits.DecompressedModule.MaxBytes);
        return Parse(ElfImage.Parse(image, path), ReadSignature(image.Span, image.Length, path), path, fileSize, compression, detail);
    }

    /// <summary>
    /// A damaged signature does not make the module unreadable: kmod shows such a module as
    /// unsigned; we do too, and say what is wrong with the signature.
    /// </summary>
    private static (ModuleSignature? Signature, string? Problem) ReadSignature(ReadOnlySpan<byte> image, long length, string path)
    {
        try
        {
            return (ModuleSignature.TryRead(image, length, path), null);
        }
        catch (ModuleFormatException e)
        {
            return (null, e.Problem);
        }
    }

    private static ModuleFileInfo Parse(ElfImage elf, (ModuleSignature? Signature, string? Problem) signature, string path, long fileSize, ModuleCompression compression, ModuleSymbolDetail detail)
    {
        ModuleElfExtractor.RequireModule(elf);

        // .modinfo is what a person inspecting a damaged or hostile module needs to see: as kmod's
        // modinfo does, a broken symbol table, version table or struct module costs only those
        // parts, named in SymbolProblem, never the whole module.
        var problems = new List<string>();
        T Salvage<T>(Func<T> read, T fallback)
        {
            try { return read(); }
            catch (ModuleFormatException e) { problems.Add(e.Problem); return fallback; }
        }
        var modinfo = ModuleElfExtractor.ReadModInfo(elf);
        var symtab = elf.FindSection(".symtab");
        var symbols = symtab is null ? null : Salvage(() => elf.OpenSymbols(symtab), null);
        // The same steps either way, in the same order, so the same problems are found.
        SymbolVersion[]? versions = null;
        ExportedSymbol[]? exports = null;
        RequiredSymbol[]? required = null;
        int exportCount, requiredCount;
        string? internalName;
        if (detail == ModuleSymbolDetail.Lists)
        {
            versions = Salvage(() => ModuleElfExtractor.ReadVersions(elf), []);
            internalName = Salvage(() => ModuleElfExtractor.ReadInternalName(elf), null);
            exports = Salvage(() => ModuleElfExtractor.ReadExports(elf, symbols), []);
            required = Salvage(() => ModuleElfExtractor.ReadRequiredSymbols(elf, symbols, versions), []);
            (exportCount, requiredCount) = (exports.Length, required.Length);
        }
        else
        {
            var versionEntries = Salvage(() => ModuleElfExtractor.VersionEntries(elf), ReadOnlyMemory<byte>.Empty);
            internalName = Salvage(() => ModuleElfExtractor.ReadInternalName(elf), null);
            exportCount = Salvage(() => ModuleElfExtractor.CountExports(elf, symbols), 0);
            requiredCount = Salvage(() => ModuleElfExtractor.CountRequiredSymbols(elf, symbols, versionEntries.Span), 0);
        }
        return new ModuleFileInfo
        {
            Path = path,
            Name = ModuleName.FromPath(path),
            InternalName = internalName,
            FileSize = fileSize,
            Compression = compression,
            Is64Bit = elf.Is64Bit,
            IsBigEndian = elf.IsBigEndian,
            Machine = elf.Machine,
            ModInfo = modinfo,
            Exports = exports,
            RequiredSymbols = required,
            Versions = versions,
            ExportedSymbolCount = exportCount,
            RequiredSymbolCount = requiredCount,
            SymbolDetail = detail,
            Signature = signature.Signature,
            SignatureProblem = signature.Problem,
            SymbolProblem = problems.Count == 0 ? null : string.Join("; ", problems),
        };
    }

    /// <summary>
    /// pread of the parts a reader asks for, each into a buffer from the shared pool, all returned
    /// when the file is done: what the parse keeps is strings and copies, never these buffers.
    /// </summary>
    private sealed class PooledFileSource(SafeFileHandle handle, long length, string path) : ElfSource, IDisposable
    {
        private readonly List<byte[]> _rented = [];
        private ReadOnlyMemory<byte> _tail;
        private long _tailStart = long.MaxValue;

        public override long Length => length;

        /// <summary>
        /// Reads the file's last <paramref name="count"/> bytes and serves later requests inside
        /// them from memory: a module's section headers, .shstrtab, .symtab and .strtab sit at its
        /// end, before the signature, so one read there saves several.
        /// </summary>
        public ReadOnlyMemory<byte> ReadTail(int count)
        {
            _tail = Get(length - count, count);
            _tailStart = length - count;
            return _tail;
        }

        public override ReadOnlyMemory<byte> Get(long offset, int count)
        {
            if (offset >= _tailStart && offset + count <= length)
                return _tail.Slice((int)(offset - _tailStart), count);
            var buffer = ArrayPool<byte>.Shared.Rent(count);
            _rented.Add(buffer);
            var read = SafeFile.ReadFully(handle, buffer.AsSpan(0, count), offset);
            if (read < count)
                throw new ModuleFormatException(path, offset, "the file shrank while it was read");
            return buffer.AsMemory(0, count);
        }

        public void Dispose()
        {
            foreach (var b in _rented)
                ArrayPool<byte>.Shared.Return(b);
            _rented.Clear();
        }
    }
}
