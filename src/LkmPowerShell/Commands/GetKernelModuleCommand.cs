using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell.Commands;

/// <summary>
/// lsmod and modinfo: the modules loaded in the running kernel, the modules installed for a
/// kernel (-ListAvailable), or what module files say about themselves (-Path).
/// </summary>
[Cmdlet(VerbsCommon.Get, "KernelModule", DefaultParameterSetName = LoadedSet)]
[OutputType(typeof(LoadedKernelModule), ParameterSetName = [LoadedSet])]
[OutputType(typeof(KernelModuleFile), ParameterSetName = [AvailableSet, PathSet, LiteralPathSet])]
public sealed class GetKernelModuleCommand : PSCmdlet
{
    private const string LoadedSet = "Loaded";
    private const string AvailableSet = "ListAvailable";
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    [Parameter(ParameterSetName = LoadedSet, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = AvailableSet, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ModuleName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KernelModuleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = LoadedSet)]
    public SwitchParameter IncludeBuiltin { get; set; }

    [Parameter(ParameterSetName = AvailableSet, Mandatory = true)]
    public SwitchParameter ListAvailable { get; set; }

    [Parameter(ParameterSetName = AvailableSet)]
    [ValidateNotNullOrEmpty]
    public string? KernelVersion { get; set; }

    [Parameter(ParameterSetName = PathSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Root { get; set; } = "/";

    protected override void ProcessRecord()
    {
        var names = ModuleNamePatterns.Validate(this, Name);
        if (names is { Length: 0 })
            return;
        try
        {
            switch (ParameterSetName)
            {
                case PathSet:
                case LiteralPathSet:
                    foreach (var file in ModuleFilePaths.Resolve(this, Path, LiteralPath))
                        WriteModuleFile(file);
                    break;
                case AvailableSet:
                    ModuleListing.WriteAvailable(this, new SystemRoot(ResolveRoot()), KernelVersion, names);
                    break;
                default:
                    ModuleListing.WriteLoaded(this, new SystemRoot(ResolveRoot()), names, IncludeBuiltin);
                    break;
            }
        }
        catch (Exception e) when (ErrorRecords.ForReadFailure(e, Root, "InvalidModuleIndex") is { } record)
        {
            // A corrupt index or an unreadable /proc file under the root: this input fails, the pipeline goes on.
            WriteError(record);
        }
    }

    private string ResolveRoot() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root);

    private void WriteModuleFile(string path)
    {
        if (ErrorRecords.TryReadModuleFile(this, path) is { } info)
        {
            ErrorRecords.WarnAboutDamage(this, info);
            WriteObject(new KernelModuleFile(info));
        }
    }
}
