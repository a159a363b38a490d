using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Commands;

/// <summary>
/// What will be loaded at boot: modules-load= on the kernel command line, the modules-load.d
/// directories (systemd's override rule) and Debian's /etc/modules, each with its file and line and
/// whether the target kernel has it.
/// </summary>
[Cmdlet(VerbsCommon.Get, "KernelModuleBootEntry")]
[OutputType(typeof(BootModuleEntry))]
public sealed class GetKernelModuleBootEntryCommand : ModuleTreeCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SymbolToModuleName]
    [ValidateNotAFile("Get-KernelModuleBootEntry")]
    [Alias("ModuleName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.InstalledModuleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string? KernelVersion { get; set; }

    private IReadOnlyList<BootModuleEntry>? _entries;

    protected override void BeginProcessing()
    {
        var root = OpenRoot();
        var tree = ModuleTrees.OpenIfInstalled(this, root, KernelVersion, out var failed);
        if (failed)
            return;
        if (tree is null)
        {
            WriteVerbose($"No module tree for the target kernel under {root}: Installed is left empty.");
        }
        var warnings = new List<string>();
        _entries = BootModuleList.Read(root, tree, null, warnings);
        foreach (var w in warnings)
            WriteWarning(w);
    }

    protected override void ProcessRecord()
    {
        if (_entries is null)
            return;
        if (ModuleNamePatterns.Validate(this, Name) is { Length: 0 })
            return; // every name was an invalid pattern, each reported
        var patterns = new ModuleNamePatterns(Name);
        foreach (var e in _entries)
            if (patterns.Match(ModuleName.Normalize(e.Name)))
                WriteObject(e);
    }
}
