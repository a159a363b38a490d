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
public sealed class GetKernelModuleCommand : ModuleTreeCmdlet
{
    private const string LoadedSet = "Loaded";
    private const string AvailableSet = "ListAvailable";
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    [Parameter(ParameterSetName = LoadedSet, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = AvailableSet, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SymbolToModuleName]
    [Alias("ModuleName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelModuleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = LoadedSet)]
    [Parameter(ParameterSetName = AvailableSet)]
    public SwitchParameter IncludeBuiltin { get; set; }

    [Parameter(ParameterSetName = AvailableSet, Mandatory = true)]
    public SwitchParameter ListAvailable { get; set; }

    [Parameter(ParameterSetName = AvailableSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string? KernelVersion { get; set; }

    // Not from the pipeline: strings from the pipeline are module names, files bind to -LiteralPath
    // (FileInfo's PSPath), and the module objects' own Path must not turn a name lookup into a read.
    [Parameter(ParameterSetName = PathSet, Mandatory = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    /// <summary>
    /// Verifies each file's signature as the kernel would (against the certificates built into its
    /// kernel image, /boot/vmlinuz-VERSION under -Root, and any -Certificate) and fills
    /// SignatureStatus, SignatureStatusReason and SignatureCertificate. Costs a hash of every file.
    /// </summary>
    [Parameter(ParameterSetName = AvailableSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public SwitchParameter CheckSignature { get; set; }

    /// <summary>Certificate files (PEM or DER) trusted besides the kernel image's: a MOK, a vendor or DKMS key. Implies -CheckSignature.</summary>
    [Parameter(ParameterSetName = AvailableSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Certificate { get; set; }

    private ModuleSignatures? _signatures;

    private ModuleSignatures? Signatures => CheckSignature || Certificate is not null
        ? _signatures ??= new ModuleSignatures(this, OpenRoot(), Certificate)
        : null;

    protected override void ProcessRecord()
    {
        try
        {
            switch (ParameterSetName)
            {
                case PathSet:
                case LiteralPathSet:
                    ModuleListing.WriteFiles(this, Path, LiteralPath, Signatures);
                    break;
                case AvailableSet:
                    var available = ModuleNamePatterns.Validate(this, NamesReadingFilesAsPaths());
                    if (available is not { Length: 0 })
                        ModuleListing.WriteAvailable(this, OpenRoot(), KernelVersion, available, IncludeBuiltin, Signatures);
                    break;
                default:
                    var loaded = ModuleNamePatterns.Validate(this, NamesReadingFilesAsPaths());
                    if (loaded is not { Length: 0 })
                        ModuleListing.WriteLoaded(this, OpenRoot(), loaded, IncludeBuiltin);
                    break;
            }
        }
        catch (Exception e) when (ModuleErrors.ForReadFailure(e, Root, "InvalidModuleIndex") is { } record)
        {
            // A corrupt index or an unreadable /proc file under the root: this input fails, the pipeline goes on.
            WriteError(record);
        }
    }

    /// <summary>
    /// A "name" that is plainly a file (it has a '/' or a module file's extension) is read as a
    /// -Path, as the user meant; the other names are returned for the name lookup. Null when no
    /// name was given (list everything); empty when every name was a file.
    /// </summary>
    private string[]? NamesReadingFilesAsPaths()
    {
        if (Name is null)
            return null;
        var byKind = Name.ToLookup(ModuleFilePaths.LooksLikeFile);
        var files = byKind[true].ToArray();
        foreach (var file in files)
            WriteVerbose($"'{file}' names a file, not a module: reading it as -Path would.");
        if (files.Length > 0)
            ModuleListing.WriteFiles(this, files, null, ParameterSetName == AvailableSet ? Signatures : null);
        var names = byKind[false].ToArray();
        return files.Length > 0 && names.Length == 0 ? [] : names;
    }
}
