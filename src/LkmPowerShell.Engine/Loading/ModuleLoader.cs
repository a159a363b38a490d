using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell.Engine.Loading;

public sealed record InsertOptions
{
    /// <summary>The parameter string passed to the kernel ("numdummies=3 foo=\"a b\"").</summary>
    public string Parameters { get; init; } = "";

    /// <summary>kmod's --force-vermagic: load a module built for another kernel release.</summary>
    public bool IgnoreVermagic { get; init; }

    /// <summary>kmod's --force-modversion: ignore symbol version (CRC) mismatches.</summary>
    public bool IgnoreModversions { get; init; }

    /// <summary>Let the kernel decompress (finit_module with MODULE_INIT_COMPRESSED_FILE) when it can; off forces user-space decompression.</summary>
    public bool AllowKernelDecompression { get; init; } = true;
}

public enum InsertMethod
{
    /// <summary>finit_module on the file itself.</summary>
    FinitModule,

    /// <summary>finit_module with MODULE_INIT_COMPRESSED_FILE: the kernel decompresses (6.4+).</summary>
    FinitModuleCompressed,

    /// <summary>init_module with an image decompressed (and, when forced, patched) here.</summary>
    InitModule,
}

public sealed record InsertOutcome(int Errno, InsertMethod Method, IReadOnlyList<string> KernelMessages)
{
    public bool Succeeded => Errno == 0;
}

/// <summary>
/// Inserts and removes modules, as libkmod does: finit_module first (with in-kernel decompression
/// when /sys/module/compression names the file's format), init_module with a user-space
/// decompressed image otherwise; the kernel's log lines written during the attempt are collected
/// so failures can quote them. Every kernel call goes through <see cref="IKernel"/>.
/// </summary>
public sealed class ModuleLoader(IKernel kernel)
{
    private const int ENOSYS = 38;

    public IKernel Kernel { get; } = kernel ?? throw new ArgumentNullException(nameof(kernel));

    public InsertOutcome Insert(string path, InsertOptions options)
    {
        using var log = Kernel.OpenLog();
        var (errno, method) = InsertCore(path, options);
        return new InsertOutcome(errno, method, log?.ReadNew() ?? []);
    }

    private (int Errno, InsertMethod Method) InsertCore(string path, InsertOptions options)
    {
        var flags = (options.IgnoreModversions ? ModuleSyscallFlags.IgnoreModversions : 0) | (options.IgnoreVermagic ? ModuleSyscallFlags.IgnoreVermagic : 0);
        // The one bounded, non-blocking reader: a FIFO or a device named as a module is refused, not waited on.
        using var handle = Files.SafeFile.Open(path, Files.FileLimits.ModuleFile, null, out _);
        Span<byte> head = stackalloc byte[ModuleDecompressor.MagicLength];
        var read = RandomAccess.Read(handle, head, 0);
        var compression = ModuleDecompressor.Detect(head[..read]);

        if (compression == ModuleCompression.None)
        {
            var errno = Kernel.FinitModule(handle, options.Parameters, flags);
            if (errno != ENOSYS)
                return (errno, InsertMethod.FinitModule);
        }
        else if (options.AllowKernelDecompression && Kernel.Decompression == CompressionName(compression))
        {
            var errno = Kernel.FinitModule(handle, options.Parameters, flags | ModuleSyscallFlags.CompressedFile);
            if (errno != ENOSYS)
                return (errno, InsertMethod.FinitModuleCompressed);
        }

        // init_module: the image in memory, decompressed here; kmod's forcing on this path is a
        // patched copy (no SHF_ALLOC on __versions, a blank vermagic), since there are no flags.
        var image = ModuleFileReader.ReadImage(path);
        if (options.IgnoreModversions || options.IgnoreVermagic)
            ModuleImagePatcher.StripForForce(image, path, options.IgnoreModversions, options.IgnoreVermagic);
        return (Kernel.InitModule(image, options.Parameters), InsertMethod.InitModule);
    }

    /// <summary>
    /// delete_module(name, O_NONBLOCK | (force ? O_TRUNC : 0)): 0 or the errno (EWOULDBLOCK while
    /// in use, EBUSY when not live, ENOENT when not loaded, EPERM without the privilege).
    /// </summary>
    public int Remove(string name, bool force) =>
        Kernel.DeleteModule(name, ModuleSyscallFlags.NonBlocking | (force ? ModuleSyscallFlags.Truncate : 0));

    /// <summary>The name /sys/module/compression uses for a format.</summary>
    public static string? CompressionName(ModuleCompression c) => c switch
    {
        ModuleCompression.Xz => "xz",
        ModuleCompression.Zstd => "zstd",
        ModuleCompression.Gzip => "gzip",
        _ => null,
    };
}
