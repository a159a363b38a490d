using LkmPowerShell.Engine.Loading;

namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// The one answer to "can this process change this kernel's modules?": the kernel must have
/// loadable-module support, and the process CAP_SYS_MODULE. The cmdlets ask it before anything
/// (module support), the engine's load and unload calls at the first change approved (both).
/// </summary>
public static class KernelAccess
{
    /// <summary>Why modules cannot be loaded into or removed from <paramref name="kernel"/>; null when they can.</summary>
    /// <remarks><paramref name="privilege"/>: Also require the privilege (not needed to plan, only to change).</remarks>
    /// <returns>A <see cref="KernelModulesUnsupportedException"/> or a <see cref="ModulePrivilegeException"/>.</returns>
    public static Exception? ChangeProblem(IKernel kernel, bool privilege = true)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.ModulesUnsupportedReason is { } reason)
            return new KernelModulesUnsupportedException(kernel.Release, kernel.Root.Resolve(ProcModulesReader.SystemPath), reason);
        if (privilege && !kernel.CallerMayManageModules)
            return new ModulePrivilegeException();
        return null;
    }
}
