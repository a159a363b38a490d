using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Commands;

/// <summary>
/// Makes modules impossible to load by modprobe, the CIS way (install NAME /bin/false and
/// blacklist NAME in LkmPowerShell's own file under /etc/modprobe.d); -Unload also removes a
/// loaded one now, if nothing uses it.
/// </summary>
[Cmdlet(VerbsLifecycle.Disable, "KernelModule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ModuleDisableStatus))]
public sealed class DisableKernelModuleCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SymbolToModuleName]
    [ValidateNotAFile("Disable-KernelModule")]
    [Alias("ModuleName", "Module")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.InstalledModuleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter]
    public SwitchParameter Unload { get; set; }

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
        foreach (var name in Name!)
        {
            var status = ModuleConfigurationErrors.Try(this, name, () =>
            {
                // Nothing to write when our file or another one already disables it: no prompt then.
                var now = _disabler!.Status(name);
                var needsWrite = !now.Compliant && !_disabler.DisabledModules().Contains(now.Module);
                return needsWrite && !ShouldProcess($"{_disabler.FilePath}: install {now.Module} {ModuleDisabler.NoOpCommand}, blacklist {now.Module}", "Disable kernel module")
                    ? null
                    : _disabler.Disable(name);
            });
            if (status is null)
                continue;
            WriteVerbose($"{status.Module}: {status.Change}{(status.Note is null ? "" : "; " + status.Note)}");
            if (status.Note is not null && !status.Disabled)
                WriteWarning($"{status.Module}: {status.Note}");
            // The initramfs loads modules before /etc/modprobe.d exists: it keeps loading this one until rebuilt.
            if (status.Disabled)
                foreach (var version in Engine.Initramfs.InitramfsAudit.KernelsStillCarrying(_disabler!.Root, status.Module))
                    WriteWarning($"{status.Module}: the initramfs of kernel {version} still carries it without this setting, so it can load at boot before /etc/modprobe.d is read; rebuild it: update-initramfs -u -k {version}");
            // The unload is this call's own change, so this call's ShouldProcess asks for it
            // (honouring -WhatIf and $WhatIfPreference); the Remove-KernelModule it runs then does not ask again.
            if (Unload && status.Loaded == true && _disabler!.Root.IsHost && ShouldProcess(status.Module, "Unload kernel module (Remove-KernelModule)"))
                status = RemoveNow(status);
            if (PassThru)
                WriteObject(status);
        }
    }

    /// <summary>Runs Remove-KernelModule, so unloading has one implementation and its refusals (in use, built in) reach the user unchanged.</summary>
    private ModuleDisableStatus RemoveNow(ModuleDisableStatus status)
    {
        using var ps = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
        ps.AddCommand("LkmPowerShell\\Remove-KernelModule").AddParameter("Name", status.Module).AddParameter("Confirm", false);
        if (MyInvocation.BoundParameters.ContainsKey("Verbose")) ps.AddParameter("Verbose", true);
        ps.Invoke();
        foreach (var e in ps.Streams.Error)
            WriteError(e);
        var after = _disabler!.Status(status.Module, status.Change, status.Note);
        return after with { Unloaded = after.Loaded == false };
    }
}
