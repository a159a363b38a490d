namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// Why a load or unload step failed, as a cause a front end can turn into a category and a
/// remedy. Derived from the errno (and from which syscall returned it), never from text.
/// </summary>
public enum FailureCause
{
    /// <summary>Anything else: the errno says what.</summary>
    Other,
    /// <summary>EPERM: no CAP_SYS_MODULE (or module loading disabled).</summary>
    NoPrivilege,
    /// <summary>ENOENT from a load: symbols the kernel does not know.</summary>
    UnknownSymbol,
    /// <summary>ENOENT from an unload: not loaded.</summary>
    NotLoaded,
    /// <summary>ENOEXEC: not a module for this kernel (vermagic, architecture, damage).</summary>
    InvalidFormat,
    /// <summary>ESRCH: a symbol's CRC differs from the kernel's.</summary>
    WrongSymbolVersion,
    /// <summary>EINVAL: a parameter the module refuses, or its init failed so.</summary>
    InvalidParameters,
    /// <summary>EEXIST: a module of that name is loaded.</summary>
    AlreadyLoaded,
    /// <summary>EBUSY: being loaded or unloaded right now.</summary>
    Busy,
    /// <summary>EWOULDBLOCK from an unload: its use count is not zero.</summary>
    InUse,
    /// <summary>ENOMEM.</summary>
    OutOfMemory,
    /// <summary>EACCES: signature missing while enforced, or a security module says no.</summary>
    AccessDenied,
    /// <summary>EKEYREJECTED: the signature does not verify.</summary>
    SignatureRejected,
    /// <summary>ENOKEY: signed with a key the kernel does not trust.</summary>
    KeyNotTrusted,
    /// <summary>ENOSYS: no loadable-module support.</summary>
    NoModuleSupport,
    /// <summary>An install or remove command from modprobe.d exited non-zero.</summary>
    CommandFailed,
    /// <summary>The call was stopped before this step ran.</summary>
    Stopped,
}

/// <summary>The errno facts of the module syscalls: cause, symbolic name and what the kernel meant.</summary>
internal static class ModuleErrno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, ENOEXEC = 8, EAGAIN = 11, EWOULDBLOCK = 11, ENOMEM = 12, EACCES = 13,
        EBUSY = 16, EEXIST = 17, EINVAL = 22, ENOSYS = 38, ENOKEY = 126, EKEYREJECTED = 129;

    /// <summary>The cause of an errno from init_module/finit_module.</summary>
    public static FailureCause ForInsert(int errno) => errno switch
    {
        ENOENT => FailureCause.UnknownSymbol,
        _ => Common(errno),
    };

    /// <summary>The cause of an errno from delete_module.</summary>
    public static FailureCause ForRemove(int errno) => errno switch
    {
        ENOENT => FailureCause.NotLoaded,
        EWOULDBLOCK => FailureCause.InUse,
        _ => Common(errno),
    };

    private static FailureCause Common(int errno) => errno switch
    {
        EPERM => FailureCause.NoPrivilege,
        ENOEXEC => FailureCause.InvalidFormat,
        ESRCH => FailureCause.WrongSymbolVersion,
        EINVAL => FailureCause.InvalidParameters,
        EEXIST => FailureCause.AlreadyLoaded,
        EBUSY => FailureCause.Busy,
        ENOMEM => FailureCause.OutOfMemory,
        EACCES => FailureCause.AccessDenied,
        EKEYREJECTED => FailureCause.SignatureRejected,
        ENOKEY => FailureCause.KeyNotTrusted,
        ENOSYS => FailureCause.NoModuleSupport,
        _ => FailureCause.Other,
    };

    /// <summary>"EINVAL", or "errno 200" for one without a name here.</summary>
    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        ENOEXEC => "ENOEXEC",
        EWOULDBLOCK => "EWOULDBLOCK",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        EINVAL => "EINVAL",
        ENOSYS => "ENOSYS",
        ENOKEY => "ENOKEY",
        EKEYREJECTED => "EKEYREJECTED",
        _ => $"errno {errno}",
    };

    /// <summary>What the kernel meant by an errno from a load, as a fact.</summary>
    public static string InsertMeaning(int errno) => errno switch
    {
        EPERM => "the kernel refused the caller (EPERM): loading modules needs root or the CAP_SYS_MODULE capability, or loading is disabled",
        ENOENT => "the kernel found symbols it does not know (ENOENT: Unknown symbol in module): a module it depends on is not loaded",
        ENOEXEC => "the kernel rejected the file as a module (ENOEXEC: Invalid module format): it was built for another kernel or architecture, or it is damaged",
        ESRCH => "a symbol's version does not match the running kernel (ESRCH: Module has wrong symbol version): the module was built against another kernel",
        EINVAL => "the kernel refused it (EINVAL: Invalid parameters): a parameter it does not know or a value out of range, or its init function failed",
        EEXIST => "a module of that name is already loaded (EEXIST)",
        EBUSY => "the module is busy being loaded or unloaded by someone else (EBUSY)",
        ENOMEM => "the kernel is out of memory for the module (ENOMEM)",
        EACCES => "the kernel refused the file (EACCES): its signature is missing or not trusted while signatures are enforced, or a security module forbids loading",
        EKEYREJECTED => "the signature was rejected (EKEYREJECTED)",
        ENOKEY => "the signing key is not trusted by the kernel (ENOKEY)",
        ENOSYS => "this kernel has no loadable-module support (ENOSYS)",
        _ => $"the kernel answered {Name(errno)} ({new System.ComponentModel.Win32Exception(errno).Message})",
    };

    /// <summary>What the kernel meant by an errno from an unload, as a fact.</summary>
    public static string RemoveMeaning(string module, int errno, IReadOnlyList<string> holders) => errno switch
    {
        EPERM => $"Removing {module} failed: the kernel refused the caller (EPERM): removing modules needs root or the CAP_SYS_MODULE capability.",
        ENOENT => $"{module} is not loaded.",
        EWOULDBLOCK => holders.Count > 0
            ? $"{module} is in use by {string.Join(", ", holders)}."
            : $"{module} is in use (its use count is not zero).",
        EBUSY => $"{module} is not live: it is still being loaded or already being unloaded (EBUSY).",
        _ => $"Removing {module} failed: {Name(errno)} ({new System.ComponentModel.Win32Exception(errno).Message}).",
    };
}
