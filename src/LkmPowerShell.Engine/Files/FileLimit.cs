namespace LkmPowerShell.Engine.Files;

/// <summary>A kind of file the engine reads, with the most bytes it accepts of it.</summary>
/// <param name="Kind">The kind of file, in words for an error message ("a modprobe.d file").</param>
/// <param name="MaxBytes">Bigger is refused before it is read (or, for files whose size the kernel
/// does not report, as soon as the reader passes it).</param>
public sealed record FileLimit(string Kind, long MaxBytes)
{
    public override string ToString() => $"{Kind} ({MaxBytes:N0} bytes at most)";
}

/// <summary>
/// Every size limit on a file the engine reads, in one place. Each is far above any real file of
/// its kind (the figures in the comments are Debian's largest) and far below a memory problem; an
/// error that hits one names it.
/// </summary>
public static class FileLimits
{
    /// <summary>A module file as stored (the largest in Debian's trees is ~30 MB plain, ~8 MB xz).</summary>
    public static readonly FileLimit ModuleFile = new("a module file", 512L << 20);

    /// <summary>A compressed module once decompressed (6.12's amdgpu is ~40 MiB).</summary>
    public static readonly FileLimit DecompressedModule = new("a decompressed module", 256L << 20);

    /// <summary>A .bin index written by depmod (modules.alias.bin, ~1.3 MB).</summary>
    public static readonly FileLimit BinaryIndex = new("a module index (.bin)", 256L << 20);

    /// <summary>A text file of the module tree: modules.dep, .alias, .order, .builtin... (~1.3 MB).</summary>
    public static readonly FileLimit TreeTextFile = new("a module-tree text file", 64L << 20);

    /// <summary>A modprobe.d or depmod.d configuration file (a few KiB).</summary>
    public static readonly FileLimit ConfigurationFile = new("a configuration file", 4L << 20);

    /// <summary>/proc/kallsyms or System.map: streamed, so this bounds time, not memory (~15 MB).</summary>
    public static readonly FileLimit SymbolTable = new("a kernel symbol table", 2L << 30);

    /// <summary>A procfs or sysfs file: /proc/modules, /proc/cmdline, osrelease, an attribute (a few KiB).</summary>
    public static readonly FileLimit KernelFile = new("a procfs or sysfs file", 4L << 20);

    /// <summary>A saved kernel log (dev/kmsg in an image): more than the largest configurable ring buffer holds.</summary>
    public static readonly FileLimit SavedKernelLog = new("a saved kernel log", 64L << 20);

    /// <summary>/proc/vmallocinfo: one line a vmalloc area, a few thousand on a busy system (~1 MB).</summary>
    public static readonly FileLimit VmallocInfo = new("/proc/vmallocinfo", 32L << 20);

    /// <summary>depmod's cache of module facts (~7.5 MB for a tree).</summary>
    public static readonly FileLimit DepmodCache = new("depmod's cache", 256L << 20);
}
