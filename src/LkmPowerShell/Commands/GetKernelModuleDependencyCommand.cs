using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Dependencies;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Commands;

/// <summary>
/// modprobe --show-depends as objects: the chain a load would act on, made by the very engine call
/// Import-KernelModule -WhatIf makes (ModprobeSession.Load with a dry-run decider); -Remove likewise
/// for Remove-KernelModule; -Reverse for who needs a module (modules.dep and softdeps); -Loaded for
/// the running kernel's holders graph.
/// </summary>
[Cmdlet(VerbsCommon.Get, "KernelModuleDependency", DefaultParameterSetName = NameSet)]
[OutputType(typeof(KernelModuleDependency))]
public sealed class GetKernelModuleDependencyCommand : ModuleTreeCmdlet
{
    private const string NameSet = "Name";
    private const string LiteralPathSet = "LiteralPath";
    private const string RemoveSet = "Remove";
    private const string LoadedSet = "Loaded";

    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = RemoveSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = LoadedSet, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SymbolToModuleName]
    [ValidateNotAFile("Get-KernelModuleDependency", PathParameter = "LiteralPath")]
    [Alias("ModuleName")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.InstalledModuleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [FileToLiteralPath]
    [Alias("PSPath", "FullName")]
    [ValidateNotNullOrEmpty]
    public string? LiteralPath { get; set; }

    [Parameter(ParameterSetName = NameSet)]
    [Parameter(ParameterSetName = LoadedSet)]
    public SwitchParameter Reverse { get; set; }

    [Parameter(ParameterSetName = NameSet)]
    [Parameter(ParameterSetName = LoadedSet)]
    public SwitchParameter Recurse { get; set; }

    [Parameter(ParameterSetName = RemoveSet, Mandatory = true)]
    public SwitchParameter Remove { get; set; }

    [Parameter(ParameterSetName = LoadedSet, Mandatory = true)]
    public SwitchParameter Loaded { get; set; }

    [Parameter(ParameterSetName = NameSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    [Parameter(ParameterSetName = RemoveSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string? KernelVersion { get; set; }

    private SystemRoot? _root;
    private IKernel? _kernel;
    private ModprobeSession? _session;
    private ReverseDependencies? _reverse;
    private bool _any;

    protected override void BeginProcessing()
    {
        _root = OpenRoot();
        _kernel = ModprobeSessions.OpenKernel(this, _root);
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == LoadedSet)
        {
            WriteLoaded();
            return;
        }
        _session ??= ModprobeSessions.Open(this, _kernel!, KernelVersion);
        if (_session is null)
            return;
        if (ParameterSetName == RemoveSet)
        {
            // Remove-KernelModule -RemoveUnusedDependency's call (modprobe -r), answered as -WhatIf answers it.
            var unload = _session.Unload(UnloadRequest.ForNames(Name!, UnloadOptions.RemoveUnusedDependencies), DryRunDecider.Instance);
            foreach (var item in unload.Items)
            {
                if (item.Refusal is { } refusal)
                {
                    WriteError(ModprobeSessions.PlanRefusal(refusal, item.Query));
                    continue;
                }
                foreach (var w in item.Warnings)
                    WriteVerbose(ModprobeSessions.WarningText(w));
                Write(DependencyChain.FromUnload(_session, item, unusedDependencies: true));
            }
            return;
        }
        if (Reverse)
        {
            foreach (var name in Name!)
            {
                try
                {
                    _reverse ??= new ReverseDependencies(_session.Resolver);
                    Write(_reverse.Users(name, Recurse));
                }
                catch (Exception e) when (LoadCallFailure(e))
                {
                    WriteError(Refusal(e, name));
                }
            }
            return;
        }
        // Import-KernelModule's call, answered as -WhatIf answers it: the two cannot disagree.
        var request = ParameterSetName == NameSet
            ? LoadRequest.ForNames(Name!)
            : LoadRequest.ForPath(SessionState.Path.GetUnresolvedProviderPathFromPSPath(LiteralPath));
        var report = _session.Load(request, DryRunDecider.Instance);
        foreach (var item in report.Items)
        {
            foreach (var w in item.Warnings)
                WriteWarning(ModprobeSessions.WarningText(w));
            if (item.NothingToLoad is { } nothing)
                WriteWarning($"{nothing.Message} Nothing was planned for it.");
            if (item.Refusal is ModuleDisabledException disabled)
                WriteWarning($"{disabled.Message} The plan below is what modprobe would run; Import-KernelModule refuses it.");
            else if (item.Refusal is { } refusal)
                WriteError(request.Path is not null && refusal is not ModulePlanException ? ModuleErrors.ForModuleFile(refusal, item.Query) : Refusal(refusal, item.Query));
            Write(DependencyChain.FromLoad(_session, item));
        }
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName == LoadedSet && Name is null && !_any)
            WriteVerbose("No loaded module holds another: the holders graph has no edges.");
    }

    /// <summary>-Loaded: /proc/modules and /sys/module/*/holders under -Root (the host's by default).</summary>
    private void WriteLoaded()
    {
        var snapshot = KernelSnapshot.Read(_kernel!);
        var version = _kernel!.Release ?? ModuleTrees.DefaultVersion(_root!) ?? "";
        if (Name is null)
        {
            Write(HoldersGraph.All(snapshot, _root!, version));
            return;
        }
        foreach (var name in Name)
        {
            if (HoldersGraph.For(snapshot, _root!, version, name, Reverse, Recurse) is { } rows)
                Write(rows);
            else
                WriteError(ModuleErrors.New(new ItemNotFoundException($"{name} is not loaded (no line in {_root!.Resolve(ProcModulesReader.SystemPath)})."),
                    "ModuleNotLoaded", ErrorCategory.ObjectNotFound, name, "Dependency.NotLoaded"));
        }
    }

    private void Write(IReadOnlyList<DependencyRow> rows)
    {
        foreach (var row in rows)
        {
            _any = true;
            WriteObject(new KernelModuleDependency(row));
        }
    }

    /// <summary>A misspelt name gets the nearest installed modules, as Import-KernelModule gives them.</summary>
    private ErrorRecord Refusal(Exception e, string query) => e is ModuleNotFoundException { AliasTarget: null } missing
        ? Suggestions.Add(ModuleErrors.For(missing, query), missing.Module, _session!.Tree.Modules().Select(m => m.Name), moduleNames: true)
        : ModprobeSessions.PlanRefusal(e, query);

    private static bool LoadCallFailure(Exception e) =>
        e is ModulePlanException or IOException or UnauthorizedAccessException or ModuleFormatException or Engine.ModuleTree.ModuleTreeNotIndexedException;
}
