namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// Errors of the module syscalls in words that say what went wrong and what to do, where kmod
/// says "Unknown symbol in module, or unknown parameter (see dmesg)".
/// </summary>
public static class LoadErrorText
{
    public static string ForInsert(string module, int errno, IReadOnlyList<string> kernelMessages)
    {
        var why = errno switch
        {
            1 => Privileges.Explanation, // EPERM
            2 => "the kernel found symbols it does not know (ENOENT: Unknown symbol in module); load the modules it depends on first, or load it by name so its dependencies come first",
            8 => "the kernel rejected the file as a module (ENOEXEC: Invalid module format): it was built for another kernel or architecture, or it is damaged",
            3 => "a symbol's version does not match the running kernel (ESRCH: Module has wrong symbol version); the module was built against another kernel",
            22 => "the kernel refused it (EINVAL: Invalid parameters): a parameter it does not know or a value out of range, or its init function failed",
            17 => "a module of that name is already loaded (EEXIST)",
            16 => "the module is busy being loaded or unloaded by someone else (EBUSY); try again",
            12 => "the kernel is out of memory for the module (ENOMEM)",
            13 => "the kernel refused the file (EACCES): its signature is missing or not trusted while signatures are enforced, or a security module forbids loading",
            129 => "the signature was rejected (EKEYREJECTED)",
            126 => "the signing key is not trusted by the kernel (ENOKEY)",
            38 => "this kernel has no loadable-module support (ENOSYS)",
            _ => $"the kernel answered errno {errno} ({new System.ComponentModel.Win32Exception(errno).Message})",
        };
        var messages = kernelMessages.Count == 0 ? "" : " The kernel logged: " + string.Join(" | ", kernelMessages.TakeLast(8)) + ".";
        return $"Loading {module} failed: {why}.{messages}";
    }

    public static string ForRemove(string module, int errno, IReadOnlyList<string> holders) => errno switch
    {
        1 => $"Removing {module} failed: {Privileges.Explanation}",
        2 => $"{module} is not loaded.",
        11 => holders.Count > 0
            ? $"{module} is in use by {string.Join(", ", holders)}; remove {(holders.Count == 1 ? "it" : "them")} first (or use -RemoveUnusedDependency on the user)."
            : $"{module} is in use (its use count is not zero); stop what uses it, or wait with -Timeout.",
        16 => $"{module} is not live: it is still being loaded or already being unloaded (EBUSY); try again.",
        _ => $"Removing {module} failed: errno {errno} ({new System.ComponentModel.Win32Exception(errno).Message}).",
    };
}
