using System.Collections;
using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell;

/// <summary>Shared setup of Import- and Remove-KernelModule: the tree, the configuration, the resolver, the kernel state.</summary>
internal sealed class ModulePlanning
{
    private ModulePlanning(SystemRoot root, RunningKernel kernel, ModuleDirectory tree, ModprobeConfig config)
    {
        Root = root;
        Kernel = kernel;
        Tree = tree;
        Config = config;
        Resolver = new ModuleResolver(tree, config);
        Snapshot = kernel.SupportsModules ? KernelSnapshot.Read(kernel) : KernelSnapshot.Empty;
    }

    public SystemRoot Root { get; }
    public RunningKernel Kernel { get; }
    public ModuleDirectory Tree { get; }
    public ModprobeConfig Config { get; }
    public ModuleResolver Resolver { get; }
    public KernelSnapshot Snapshot { get; }

    /// <summary>Null after writing the ErrorRecord that says why.</summary>
    public static ModulePlanning? Open(PSCmdlet cmdlet, SystemRoot root, string? kernelVersion)
    {
        var tree = ModuleTrees.Open(cmdlet, root, kernelVersion);
        if (tree is null)
            return null;
        var config = ModprobeConfig.Load(root, tree);
        foreach (var w in config.Warnings)
            cmdlet.WriteWarning(w.ToString());
        return new ModulePlanning(root, new RunningKernel(root), tree, config);
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

    public static ErrorRecord PlanError(ModulePlanException e, string target) => new(e, e.ErrorId, e switch
    {
        ModuleNotFoundException => ErrorCategory.ObjectNotFound,
        ModuleInUseException => ErrorCategory.ResourceBusy,
        ModuleBlacklistedException => ErrorCategory.PermissionDenied,
        InvalidModuleNameException => ErrorCategory.InvalidArgument,
        ModuleBuiltinException => ErrorCategory.InvalidOperation,
        _ => ErrorCategory.InvalidOperation,
    }, target);
}
