using System.Collections;
using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell;

/// <summary>What Import- and Remove-KernelModule share: opening the engine's write-side session, parameters, warnings.</summary>
internal static class ModprobeSessions
{
    /// <summary>The first line of the boot-time files -Persist writes (the engine recognises any line starting with its owner mark).</summary>
    public const string PersistenceHeader = "# Written by LkmPowerShell (Import-KernelModule -Persist); Remove-KernelModule -Persist deletes it.";

    /// <summary>Null after writing the ErrorRecord that says why.</summary>
    public static ModprobeSession? Open(PSCmdlet cmdlet, IKernel kernel, string? kernelVersion)
    {
        var tree = ModuleTrees.Open(cmdlet, kernel.Root, kernelVersion);
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

    /// <summary>A boot-time file that could not be written or deleted.</summary>
    public static ErrorRecord PersistFailed(Exception e, string module)
    {
        var denied = e is UnauthorizedAccessException;
        var remedy = ModuleErrors.Remedy(denied ? "Persist.AccessDenied" : "Persist.Failed", module);
        return new ErrorRecord(e, denied ? "PersistAccessDenied" : "PersistFailed", denied ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError, module)
        {
            ErrorDetails = new ErrorDetails($"{e.Message} {remedy}") { RecommendedAction = remedy },
        };
    }

    public static void WritePersisted(Cmdlet cmdlet, IEnumerable<PersistedFile> files)
    {
        foreach (var f in files)
            cmdlet.WriteVerbose($"{f.Path}: {f.Change}{(f.Reason is null ? "" : " (" + f.Reason + ")")}");
    }
}
