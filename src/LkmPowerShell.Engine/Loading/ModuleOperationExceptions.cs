using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// A load or unload that the kernel (or a modprobe.d command) refused. Carries facts only: the
/// module, the cause, the errno and what the kernel logged. What to do about it is the front
/// end's to say, from <see cref="Cause"/>.
/// </summary>
public abstract class ModuleOperationException(string module, FailureCause cause, int? errno, string message) : Exception(message)
{
    public string Module { get; } = module;
    public FailureCause Cause { get; } = cause;

    /// <summary>The syscall's errno; null for a failed command or a refusal found before any syscall.</summary>
    public int? Errno { get; } = errno;
}

/// <summary>This process may not load or unload modules (no CAP_SYS_MODULE).</summary>
public sealed class ModulePrivilegeException()
    : ModuleOperationException("", FailureCause.NoPrivilege, ModuleErrno.EPERM,
        "Loading and removing kernel modules needs root or the CAP_SYS_MODULE capability, which this process does not have.");

/// <summary>init_module/finit_module failed for one step; <see cref="RolledBack"/> says what was undone.</summary>
public sealed class ModuleLoadException(LoadStep step, int errno, InsertMethod? method, IReadOnlyList<string> kernelMessages)
    : ModuleOperationException(step.Module, ModuleErrno.ForInsert(errno), errno,
        $"Loading {step.Module} failed: {ModuleErrno.InsertMeaning(errno)}." +
        (kernelMessages.Count == 0 ? "" : " The kernel logged: " + string.Join(" | ", kernelMessages.TakeLast(8)) + "."))
{
    public LoadStep Step { get; } = step;
    public string? Path => Step.Path;
    public InsertMethod? Method { get; } = method;
    public IReadOnlyList<string> KernelMessages { get; } = kernelMessages;

    /// <summary>Modules this call had loaded and removed again.</summary>
    public IReadOnlyList<string> RolledBack { get; internal set; } = [];

    /// <summary>Modules this call had loaded and could not remove again: they stay loaded.</summary>
    public IReadOnlyList<string> RollbackFailures { get; internal set; } = [];

    public override string Message => base.Message
        + (RolledBack.Count > 0 ? $" Rolled back: removed {string.Join(", ", RolledBack)} again, which this call had loaded; the kernel is as it was." : "")
        + (RollbackFailures.Count > 0 ? $" Could not remove {string.Join(", ", RollbackFailures)} again: they stay loaded." : "");
}

/// <summary>delete_module failed for one step.</summary>
public sealed class ModuleRemoveException(UnloadStep step, int errno, IReadOnlyList<string> holders)
    : ModuleOperationException(step.Module, ModuleErrno.ForRemove(errno), errno, ModuleErrno.RemoveMeaning(step.Module, errno, holders))
{
    public UnloadStep Step { get; } = step;

    /// <summary>The loaded modules that used it when it failed (/sys/module/NAME/holders).</summary>
    public IReadOnlyList<string> Holders { get; } = holders;
}

/// <summary>A modprobe.d install or remove command exited non-zero, or ran past its time and was stopped.</summary>
public sealed class ModuleCommandException(string module, string command, ConfigCommandResult result, bool isRemove)
    : ModuleOperationException(module, FailureCause.CommandFailed, null,
        result.TimedOut
            ? $"The {(isRemove ? "remove" : "install")} command for {module} ('{command}') did not finish within {ModprobeCommandRunner.DefaultTimeout.TotalSeconds:0} s and was stopped, with the processes it started. Check the command in modprobe.d: it must not wait for input or for ever."
            : $"The {(isRemove ? "remove" : "install")} command for {module} ('{command}') exited with {result.ExitCode}.")
{
    public string Command { get; } = command;

    /// <summary>The command's exit code; null when it was stopped at its time limit.</summary>
    public int? ExitCode { get; } = result.ExitCode;

    /// <summary>It ran past its time and was stopped.</summary>
    public bool TimedOut { get; } = result.TimedOut;

    public bool IsRemove { get; } = isRemove;
}

/// <summary>The call was stopped before this step ran; nothing of it was done.</summary>
internal sealed class ModuleStepStoppedException(string module)
    : ModuleOperationException(module, FailureCause.Stopped, null, $"Stopped before {module} was handled.");

/// <summary>Why the kernel would refuse a file, found before asking it.</summary>
public enum RefusalReason
{
    /// <summary>vermagic names another release than the running kernel's.</summary>
    BuiltForOtherKernel,
    /// <summary>Unsigned, and the kernel only takes signed modules.</summary>
    UnsignedWhileEnforced,
    /// <summary>Symbols that neither the kernel nor a loaded module exports.</summary>
    MissingSymbols,
}

/// <summary>
/// The kernel would refuse this file (found before any syscall, so nothing changed): the facts
/// of why, so the message can name the missing symbols and the modules that export them.
/// </summary>
public sealed class ModuleWouldBeRefusedException : ModuleOperationException
{
    public ModuleWouldBeRefusedException(string module, string path, RefusalReason reason, string message)
        : base(module, reason switch
        {
            RefusalReason.BuiltForOtherKernel => FailureCause.InvalidFormat,
            RefusalReason.UnsignedWhileEnforced => FailureCause.AccessDenied,
            _ => FailureCause.UnknownSymbol,
        }, null, message)
    {
        Path = path;
        Reason = reason;
    }

    public string Path { get; }
    public RefusalReason Reason { get; }

    /// <summary>For <see cref="RefusalReason.BuiltForOtherKernel"/>: the module's and the kernel's release.</summary>
    public string? BuiltFor { get; init; }
    public string? RunningRelease { get; init; }

    /// <summary>For <see cref="RefusalReason.MissingSymbols"/>: what is missing, who exports some of it, what nobody exports.</summary>
    public IReadOnlyList<string> MissingSymbols { get; init; } = [];
    public IReadOnlyList<string> Providers { get; init; } = [];
    public IReadOnlyList<string> Unprovided { get; init; } = [];
}
