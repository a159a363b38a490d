using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Commands;

/// <summary>
/// Changes a loaded module's parameter now, through /sys/module/NAME/parameters/PARAM, after
/// checking that the module declares it, that it is writable, and that the value fits its type.
/// </summary>
[Cmdlet(VerbsCommon.Set, "KernelModuleParameter", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ParameterChange))]
public sealed class SetKernelModuleParameterCommand : ModuleTreeCmdlet
{
    // By value too: a piped name, or a symbol standing for its module (SymbolToModuleName runs only on whole piped objects).
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SymbolToModuleName]
    [ValidateNotAFile("Set-KernelModuleParameter")]
    [Alias("ModuleName", "Module")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.LoadedModuleNameCompleter))]
    public string? Name { get; set; }

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelModuleParameterCompleter))]
    public string? Parameter { get; set; }

    [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? Value { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string? KernelVersion { get; set; }

    private SystemRoot? _root;
    private ModuleDirectory? _tree;
    private bool _treeOpened;

    protected override void BeginProcessing() =>
        _root = OpenRoot();

    protected override void ProcessRecord()
    {
        RemoteOrigin.NoteNames(this, Name is null ? null : [Name]);
        var writer = new ModuleParameterWriter(_root!);
        ErrorRecord? refusal = null;
        var change = ModuleConfigurationErrors.Try(this, $"{Name}.{Parameter}", () =>
        {
            var type = ModuleParameterWriter.TypeOf(Tree(), Name!, Parameter!);
            if (type is null)
                WriteVerbose($"The type of {Name}.{Parameter} is unknown (no module file or modinfo for it); only the kernel checks the value.");
            // Declared, writable (mode) and typed are checked before the question, so -WhatIf
            // approves only what the real run would try; the refusal is the real run's.
            var plan = writer.Plan(Name!, Parameter!, Value!, type);
            // A value it already has is no change: nothing to ask, and nothing written (Changed false).
            if (!plan.Changed)
                return plan;
            if (!ShouldProcess($"{plan.Path} = '{Value}'", "Set kernel module parameter"))
                return null;
            // -WhatIf has shown the plan; a real write under an image's /sys makes no sense (it is no live kernel).
            if (!_root!.IsHost)
            {
                refusal = KernelChangeGate.RootRefusal(_root, "module parameters are changed in the running kernel only");
                return null;
            }
            return writer.Set(Name!, Parameter!, Value!, type);
        }, "/sys/module");
        if (refusal is not null)
            ThrowTerminatingError(refusal);
        if (change is null)
            return;
        WriteVerbose(change.Changed ? $"{change.Module}.{change.Parameter}: '{change.OldValue}' -> '{change.NewValue}'" : $"{change.Module}.{change.Parameter} is already '{change.NewValue}'; nothing written.");
        if (PassThru)
            WriteObject(change);
    }

    /// <summary>The module tree, for parameter types; opened once, and quietly absent when there is none.</summary>
    private ModuleDirectory? Tree()
    {
        if (_treeOpened)
            return _tree;
        _treeOpened = true;
        _tree = ModuleTrees.OpenIfInstalled(this, _root!, KernelVersion, out _);
        return _tree;
    }
}
