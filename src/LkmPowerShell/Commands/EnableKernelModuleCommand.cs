using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Commands;

/// <summary>
/// Undoes Disable-KernelModule: removes the module's lines from LkmPowerShell's file, and warns
/// when another file still disables or blacklists it (that file is never changed).
/// </summary>
[Cmdlet(VerbsLifecycle.Enable, "KernelModule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ModuleDisableStatus))]
public sealed class EnableKernelModuleCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SymbolToModuleName]
    [ValidateNotAFile("Enable-KernelModule")]
    [Alias("ModuleName", "Module")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.DisabledModuleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Root { get; set; } = "/";

    private ModuleDisabler? _disabler;

    protected override void BeginProcessing() =>
        _disabler = new ModuleDisabler(new SystemRoot(SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root)));

    protected override void ProcessRecord()
    {
        RemoteOrigin.NoteNames(this, Name);
        foreach (var name in Name!)
        {
            var status = ModuleConfigurationErrors.Try(this, name, () =>
            {
                // Only a module of our file changes anything; for any other, Enable just reports.
                var ours = ModuleName.IsPlainModuleName(name) && _disabler!.DisabledModules().Contains(ModuleName.Normalize(name));
                return ours && !ShouldProcess($"{_disabler!.FilePath}: the install and blacklist lines of {ModuleName.Normalize(name)}", "Enable kernel module")
                    ? null
                    : _disabler!.Enable(name);
            }, _disabler!.FolderPath);
            if (status is null)
                continue;
            WriteVerbose($"{status.Module}: {status.Change}");
            if (status.Note is not null)
                WriteWarning($"{status.Module}: {status.Note}");
            if (PassThru)
                WriteObject(status);
        }
    }
}
