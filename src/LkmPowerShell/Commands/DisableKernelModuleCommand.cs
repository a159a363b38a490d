using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
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

    /// <summary>The install command written: /bin/false (CIS, the default) or /bin/true (what Lynis 3.0.x scores as disabled).</summary>
    [Parameter]
    [ValidateSet("/bin/false", "/bin/true")]
    public string InstallCommand { get; set; } = ModuleDisabler.NoOpCommand;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Root { get; set; } = "/";

    private ModuleDisabler? _disabler;
    private ModprobeSession? _session;

    private InstalledModuleNames? _installed;
    private Engine.Initramfs.InitramfsCarriers? _initramfs;

    protected override void BeginProcessing()
    {
        _disabler = new ModuleDisabler(new SystemRoot(SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root)));
        // Read once for every name of this call (trees and initramfs images are large).
        _installed = new InstalledModuleNames(_disabler.Root);
        _initramfs = new Engine.Initramfs.InitramfsCarriers(_disabler.Root);
    }

    protected override void ProcessRecord()
    {
        RemoteOrigin.NoteNames(this, Name);
        foreach (var name in Name!)
        {
            // Written all the same (a hardening list names modules a tree may not have), but a typo would disable nothing.
            if (_installed!.Check(name) is { } unknown)
                WriteWarning($"{name}: no kernel installed under {_disabler!.Root} ({string.Join(", ", unknown.KernelVersions)}) has a module or alias of that name, so this setting disables nothing there." +
                    (unknown.Nearest.Count > 0 ? $" Did you mean {string.Join(" or ", unknown.Nearest)}?" : ""));
            var status = ModuleConfigurationErrors.Try(this, name, () =>
            {
                // Nothing to write when our file or another one already disables it: no prompt then.
                var now = _disabler!.Status(name);
                var ours = _disabler.OwnInstallCommand(now.Module);
                var needsWrite = ours is null ? !now.Compliant : ours != InstallCommand;
                return needsWrite && !ShouldProcess($"{_disabler.FilePath}: install {now.Module} {InstallCommand}, blacklist {now.Module}", "Disable kernel module")
                    ? null
                    : _disabler.Disable(name, InstallCommand);
            }, _disabler!.FolderPath);
            if (status is null)
                continue;
            WriteVerbose($"{status.Module}: {status.Change}{(status.Note is null ? "" : "; " + status.Note)}");
            if (status.Note is not null && !status.Disabled)
                WriteWarning($"{status.Module}: {status.Note}");
            // The initramfs loads modules before /etc/modprobe.d exists: it keeps loading this one until rebuilt.
            if (status.Disabled)
                foreach (var version in _initramfs!.KernelsStillCarrying(status.Module))
                    WriteWarning($"{status.Module}: the initramfs of kernel {version} still carries it without this setting, so it can load at boot before /etc/modprobe.d is read; rebuild it: update-initramfs -u -k {version}");
            // The unload is this call's own change, so this call's ShouldProcess asks for it
            // (honouring -WhatIf and $WhatIfPreference); the engine's unload then asks nothing more.
            if (Unload && status.Loaded == true && _disabler!.Root.IsHost && ShouldProcess(status.Module, "Unload kernel module (Remove-KernelModule)"))
                status = UnloadNow(status);
            if (PassThru)
                WriteObject(status);
        }
    }

    /// <summary>
    /// The engine's one unload call, as Remove-KernelModule makes it, so unloading has one
    /// implementation and its refusals (in use, built in) reach the user with the same ModuleErrors.
    /// </summary>
    private ModuleDisableStatus UnloadNow(ModuleDisableStatus status)
    {
        _session ??= ModprobeSessions.Open(this, ModprobeSessions.OpenKernel(this, _disabler!.Root), null);
        if (_session is not null)
        {
            var report = _session.Unload(UnloadRequest.ForNames([status.Module]), ApproveAll.Instance);
            foreach (var item in report.Items)
                ModprobeSessions.WriteUnload(this, item, report.Stopped is not null);
            if (report.Stopped is { } stopped && ModprobeSessions.StopRecord(stopped, status.Module) is { } record)
                WriteError(record);
        }
        var after = _disabler!.Status(status.Module, status.Change, status.Note);
        return after with { Unloaded = after.Loaded == false };
    }
}
