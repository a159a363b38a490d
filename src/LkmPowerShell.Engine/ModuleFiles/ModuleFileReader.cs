using System.Buffers;
using LkmPowerShell.Engine.Elf;
using LkmPowerShell.Engine.Files;

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
    /// No module comes near this (the largest in Debian's trees is about 30 MB uncompressed); a
    /// bigger file or decompressed image is refused rather than allocated.
    /// </summary>
    public static readonly long MaxModuleBytes = FileLimits.ModuleFile.MaxBytes;

    /// <param name="path">The module file.</param>
    /// <param name="within">The root the path came from (a tree's modules.dep): it is then opened
    /// inside that root, as if chrooted. Null for a path the user gave.</param>
    /// <exception cref="FileRefusedException">A FIFO, device or folder, or a file over its limit.</exception>
    public static ModuleFileInfo Read(string path, SystemRoot? within = null)
    {
        SafeFile.RejectNul(path);
        // A path from inside a root keeps its ".." for the contained open to resolve.
        var fullPath = within is null || within.IsHost ? System.IO.Path.GetFullPath(path) : path;
        using var handle = SafeFile.Open(fullPath, FileLimits.ModuleFile, within, out var length);
        if (length == 0)
            throw new ModuleFormatException(fullPath, 0, "the file is empty");

        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            var read = ReadFully(handle, buffer.AsSpan(0, (int)length));
            return Parse(buffer.AsMemory(0, read), fullPath, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Parses a module already in memory (the file's bytes, compressed or not).</summary>
    public static ModuleFileInfo Parse(ReadOnlyMemory<byte> fileBytes, string path, long fileSize)
    {
        var compression = ModuleDecompressor.Detect(fileBytes.Span);
        var image = compression == ModuleCompression.None
            ? fileBytes
            : ModuleDecompressor.Decompress(fileBytes.Span, compression, path, FileLimits.DecompressedModule.MaxBytes);

        // A damaged signature does not make the module unreadable: kmod shows such a module as
        // unsigned; we do too, and say what is wrong with the signature.
        ModuleSignature? signature = null;
        string? signatureProblem = null;
        try
        {
            signature = ModuleSignature.TryRead(image.Span, path);
        }
        catch (ModuleFormatException e)
        {
            signatureProblem = e.Problem;
        }
        var elf = ElfImage.Parse(image, path);
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
        var versions = Salvage(() => ModuleElfExtractor.ReadVersions(elf), []);
        var internalName = Salvage(() => ModuleElfExtractor.ReadInternalName(elf), null);
        var exports = Salvage(() => ModuleElfExtractor.ReadExports(elf, symbols), []);
        var required = Salvage(() => ModuleElfExtractor.ReadRequiredSymbols(elf, symbols, versions), []);
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
            Signature = signature,
            SignatureProblem = signatureProblem,
            SymbolProblem = problems.Count == 0 ? null : string.Join("; ", problems),
        };
    }

    private static int ReadFully(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> into)
    {
        var total = 0;
        while (total < into.Length)
        {
            var n = RandomAccess.Read(handle, into[total..], total);
            if (n == 0)
                break; // the file shrank while we read it: parse what is there; the parser reports truncation
            total += n;
        }
        return total;
    }
}
