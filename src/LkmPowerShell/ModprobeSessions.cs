using System.Collections;
using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell;

/// <summary>What the write cmdlets share: opening the engine's session, parameters, and turning a report into warnings, ErrorRecords and Verbose lines.</summary>
internal static class ModprobeSessions
{
    /// <summary>The first line of the boot-time files -Persist writes (the engine recognises any line starting with its owner mark).</summary>
    public const string PersistenceHeader = "# Written by LkmPowerShell (Import-KernelModule -Persist); Remove-KernelModule -Persist deletes it.";

    /// <summary>Null after writing the ErrorRecord that says why.</summary>
    public static ModprobeSession? Open(PSCmdlet cmdlet, IKernel kernel, string? kernelVersion)
    {
        // rmmod NAME and insmod PATH need only the kernel: a kernel without a tree (a custom kernel, a
        // container) still gets a session, and the engine refuses what needs the tree, saying so.
        var tree = ModuleTrees.OpenOrAbsent(cmdlet, kernel.Root, kernelVersion);
        if (tree is null)
            return null;
        var config = ModprobeConfig.Load(kernel.Root, tree);
        foreach (var w in config.Warnings)
            cmdlet.WriteWarning(w.ToString());
        return new ModprobeSession(kernel, tree, config, new ModprobeSessionOptions
        {
            Progress = cmdlet.WriteVerbose,
            PersistenceHeader = PersistenceHeader,
        });
    }

    /// <summary>
    /// The running kernel under the root. With <paramref name="refuseUnsupported"/>, a host kernel
    /// without module support is refused (terminating) before anything is read: nothing is loaded
    /// there, so there is nothing to plan a removal of. A load is still planned (-WhatIf), and the
    /// engine refuses it at the first change approved.
    /// </summary>
    public static IKernel OpenKernel(PSCmdlet cmdlet, SystemRoot root, bool refuseUnsupported = true)
    {
        var kernel = root.IsHost && !root.ModuleDirectoryGiven ? RunningKernel.Host : new RunningKernel(root);
        if (refuseUnsupported && root.IsHost && KernelAccess.ChangeProblem(kernel, privilege: false) is KernelModulesUnsupportedException e)
            cmdlet.ThrowTerminatingError(ModuleErrors.For(e));
        return kernel;
    }

    /// <summary>-Parameters: a hashtable (@{ numdummies = 3 }) or a string ("io=0x300 irq=11").</summary>
    public static IReadOnlyList<ModuleParameter> ParseParameters(object? value) => value switch
    {
        null => [],
        PSObject pso => ParseParameters(pso.BaseObject),
        string s => ModuleParameters.Parse(s),
        IDictionary d => ModuleParameters.FromDictionary(d),
        _ => throw new ArgumentException("-Parameters takes a hashtable such as @{ numdummies = 3 } or a string such as 'io=0x300 irq=11'."),
    };

    /// <summary>A plan warning as shown, with the advice this front end has for its kind.</summary>
    public static string WarningText(PlanWarning w) => w.Kind switch
    {
        PlanWarningKind.DifferentParameter => $"{w.Message} Remove-KernelModule {w.Module} first to change it.",
        PlanWarningKind.UndeclaredParameter => $"{w.Message} Get-KernelModule -ListAvailable {w.Module} | Select-Object -ExpandProperty Parameters lists the ones it has.",
        _ => w.Message,
    };

    /// <summary>The ShouldProcess target of -Persist: each file that would change, by its exact path.</summary>
    public static string PersistTarget(IEnumerable<PersistedFile> changes) =>
        string.Join(", ", changes.Select(f => $"{(f.Change == PersistChange.Deleted ? "delete" : "write")} {f.Path}"));

    /// <summary>-Persist's outcome: a Verbose line a file, or the one ErrorRecord.</summary>
    public static void WritePersisted(PSCmdlet cmdlet, PersistOutcome persisted, string module, string nothingToDo)
    {
        if (persisted.NothingToDo)
            cmdlet.WriteVerbose($"{module}: {nothingToDo}");
        if (persisted.Failure is PersistenceConflictException conflict)
            cmdlet.WriteError(ModuleErrors.For(conflict, module));
        else if (persisted.Failure is { } e)
        {
            var denied = e is UnauthorizedAccessException;
            cmdlet.WriteError(ModuleErrors.New(e, denied ? "PersistAccessDenied" : "PersistFailed", denied ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError,
                module, denied ? "Persist.AccessDenied" : "Persist.Failed", module));
        }
        foreach (var f in persisted.Files)
            cmdlet.WriteVerbose($"{f.Path}: {f.Change}{(f.Reason is null ? "" : " (" + f.Reason + ")")}");
    }

    /// <summary>
    /// Ends the call when the engine stopped it: the gate's refusal (-Root without -WhatIf), or
    /// the kernel that cannot be changed (no privilege, no module support), as a terminating error.
    /// </summary>
    public static void ThrowIfStopped(PSCmdlet cmdlet, Exception? stopped, KernelChangeGate gate)
    {
        gate.ThrowIfRefused();
        if (stopped is not null && StopRecord(stopped, null) is { } record)
            cmdlet.ThrowTerminatingError(record);
    }

    /// <summary>Why the engine could change nothing: no privilege, or no module support; null for a refusal the caller's decider holds.</summary>
    public static ErrorRecord? StopRecord(Exception stopped, object? target) => stopped switch
    {
        ModuleOperationException e => ModuleErrors.For(e, target),
        KernelModulesUnsupportedException e => ModuleErrors.For(e),
        _ => null,
    };

    /// <summary>Why a name could not be planned: the plan's own error, or a corrupt or refused file with the id every cmdlet gives it.</summary>
    public static ErrorRecord PlanRefusal(Exception e, string target) => e switch
    {
        ModulePlanException p => ModuleErrors.For(p, target),
        ModuleOperationException o => ModuleErrors.For(o, target),
        _ => ModuleErrors.ForReadFailure(e, target, "InvalidModuleIndex") ?? ModuleErrors.ForModuleFile(e, target),
    };

    /// <summary>
    /// What became of one unload (Remove-KernelModule, Disable-KernelModule -Unload): its warnings,
    /// the one ErrorRecord when it failed, a warning for each unused dependency that stayed loaded.
    /// </summary>
    /// <returns>False when it failed.</returns>
    public static bool WriteUnload(PSCmdlet cmdlet, UnloadOutcome item, bool stopped)
    {
        if (item.NotReached)
            return false;
        if (item.Refusal is { } refusal)
        {
            cmdlet.WriteError(PlanRefusal(refusal, item.Query));
            return false;
        }
        foreach (var w in item.Warnings)
            cmdlet.WriteWarning(WarningText(w));
        if (item.Plan!.IsNoOp)
            cmdlet.WriteVerbose($"{item.Query} is not loaded; nothing to do.");
        if (item.Execution is { } execution)
        {
            if (stopped)
                return false;
            foreach (var optional in execution.OptionalFailures)
                cmdlet.WriteWarning($"{optional.Error!.Message} It was optional ({optional.Step.Reason}), so it stays loaded.");
            if (execution.Failure is { } failure)
            {
                cmdlet.WriteError(ModuleErrors.For(failure, failure.Module));
                return false;
            }
        }
        if (item.Persisted is { } persisted)
            WritePersisted(cmdlet, persisted, item.Query, "no boot-time file of ours to delete.");
        return true;
    }
}
