using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// The syscall and live-state seam: everything the engine asks of or does to the running kernel
/// (its release, taint, loaded modules, exports, log, and the module syscalls) goes through this
/// one interface, so the write side (planning, loading, rollback, unloading) can run against a
/// fake kernel in tests on any machine, the way kmod's testsuite fakes init_module and friends.
/// <see cref="RunningKernel"/> is the real one (uname, procfs, sysfs, /dev/kmsg, the syscalls).
/// Files on disk (module trees, modprobe.d, boot-time files) are not here: they go through the
/// file seam, <see cref="SystemRoot"/>.
/// </summary>
public interface IKernel
{
    /// <summary>The system whose files (module tree, modprobe.d) go with this kernel: the file seam.</summary>
    SystemRoot Root { get; }

    /// <summary>
    /// Another system's files rather than a kernel (an image under -Root): its state can be read and
    /// planned against, but nothing can be loaded into it, so nothing is foreseen about a load either.
    /// </summary>
    bool IsOffline => false;

    /// <summary>uname -r; null when it cannot be read.</summary>
    string? Release { get; }

    /// <summary>/proc/sys/kernel/tainted decoded; null when unreadable.</summary>
    KernelTaint? Tainted { get; }

    /// <summary>This process may load and unload modules (CAP_SYS_MODULE in its effective set).</summary>
    bool CallerMayManageModules { get; }

    /// <summary>/proc/modules exists: the kernel was built with loadable-module support.</summary>
    bool SupportsModules { get; }

    /// <summary>Why there can be no loaded modules, as a fact; null when <see cref="SupportsModules"/>.</summary>
    string? ModulesUnsupportedReason { get; }

    /// <summary>/proc/modules joined with /sys/module, in lsmod's order.</summary>
    IReadOnlyList<LoadedModule> GetLoadedModules();

    /// <summary>One loaded module by name ("-" and "_" alike), or null.</summary>
    LoadedModule? GetLoadedModule(string name);

    /// <summary>/sys/module/NAME/holders: the loaded modules that use NAME.</summary>
    string[] ReadHolders(string name);

    /// <summary>
    /// Exported symbols per /proc/kallsyms (__ksymtab_ entries): symbol to owning module, null
    /// owner for the kernel image. Null when kallsyms cannot be read.
    /// </summary>
    IReadOnlyDictionary<string, string?>? ReadExports();

    /// <summary>/sys/module/compression: the format finit_module can decompress (6.4+), or null.</summary>
    string? Decompression { get; }

    /// <summary>/sys/module/module/parameters/sig_enforce: only signed modules load.</summary>
    bool SignaturesEnforced { get; }

    /// <summary>/dev/kmsg positioned at its end, to collect what the kernel logs during one call; null when unreadable.</summary>
    IKernelLog? OpenLog();

    /// <summary>finit_module(2): 0 or the errno.</summary>
    int FinitModule(SafeFileHandle file, string parameters, int flags);

    /// <summary>init_module(2): 0 or the errno.</summary>
    int InitModule(ReadOnlySpan<byte> image, string parameters);

    /// <summary>delete_module(2): 0 or the errno.</summary>
    int DeleteModule(string name, int flags);
}

/// <summary>The kernel's log from one point on (/dev/kmsg).</summary>
public interface IKernelLog : IDisposable
{
    /// <summary>Messages logged since opening or the last call, text only, oldest first.</summary>
    IReadOnlyList<string> ReadNew(int max = 200);
}

/// <summary>Flag values of the module syscalls (include/uapi/linux/module.h, fcntl.h).</summary>
internal static class ModuleSyscallFlags
{
    /// <summary>finit_module: MODULE_INIT_IGNORE_MODVERSIONS, MODULE_INIT_IGNORE_VERMAGIC, MODULE_INIT_COMPRESSED_FILE.</summary>
    public const int IgnoreModversions = 1, IgnoreVermagic = 2, CompressedFile = 4;

    /// <summary>delete_module: O_NONBLOCK (do not wait for users to go) and O_TRUNC (force).</summary>
    public const int NonBlocking = 0x800, Truncate = 0x200;
}
