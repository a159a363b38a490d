using System.Management.Automation;
using LkmPowerShell.Engine;

namespace LkmPowerShell;

/// <summary>
/// The base of every cmdlet that reads or writes a kernel's module tree: the one place that
/// declares -Root and -ModuleDirectory (kmod 34's <c>depmod -m</c>) and turns them into the engine's
/// <see cref="SystemRoot"/>, so every such cmdlet finds the tree in the same folder.
/// </summary>
public abstract class ModuleTreeCmdlet : PSCmdlet
{
    /// <summary>
    /// The system to work on (an offline image or a chroot, as kmod's -b); / is this machine. The
    /// cmdlets that change the running kernel only plan under another root (-WhatIf).
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public virtual string Root { get; set; } = "/";

    /// <summary>
    /// The folder of the kernels' module trees inside -Root: /lib/modules by default, or
    /// /usr/lib/modules when only that exists. Always inside -Root, as kmod's depmod -m is inside -b.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateModuleDirectory]
    public string? ModuleDirectory { get; set; }

    /// <summary>
    /// -Root (a provider path) with -ModuleDirectory, as the engine's root. A -Root that does not
    /// exist or is not a folder ends the call saying exactly that (nothing under it could be found,
    /// and every later error would only ask "which kernel?").
    /// </summary>
    protected SystemRoot OpenRoot()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root);
        if (!Directory.Exists(path))
        {
            var isFile = File.Exists(path);
            ThrowTerminatingError(ModuleErrors.New(new ArgumentException(isFile ? $"-Root {path} is a file, not a folder." : $"-Root {path} does not exist."),
                "RootNotFound", isFile ? ErrorCategory.InvalidArgument : ErrorCategory.ObjectNotFound, path, "RootNotFound"));
        }
        return new(path, ModuleDirectory);
    }
}

/// <summary>Refuses a -ModuleDirectory that could leave -Root, at binding time, with the reason.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateModuleDirectoryAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        if (SystemRoot.ModuleDirectoryProblem(arguments as string) is { } problem)
            throw new ValidationMetadataException($"'{arguments}' cannot be a module directory: {problem}. Give a folder inside -Root such as /usr/lib/modules.");
    }
}
