using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.Symbols;

namespace LkmPowerShell.Commands;

/// <summary>
/// Finds kernel symbols: in the running kernel (/proc/kallsyms), among the symbols the installed
/// modules export (modules.symbols), or in module files: what a file exports, or with -Undefined
/// what it needs and who provides each.
/// </summary>
[Cmdlet(VerbsCommon.Find, "KernelSymbol", DefaultParameterSetName = KernelSet)]
[OutputType(typeof(KernelSymbol))]
public sealed class FindKernelSymbolCommand : ModuleTreeCmdlet
{
    private const string KernelSet = "RunningKernel";
    private const string AvailableSet = "ListAvailable";
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    [Parameter(ParameterSetName = KernelSet, Position = 0, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = AvailableSet, Position = 0, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = PathSet, Position = 0)]
    [Parameter(ParameterSetName = LiteralPathSet, Position = 0)]
    [ArgumentCompleter(typeof(Completion.KernelSymbolNameCompleter))]
    [ValidateNotAFile("Find-KernelSymbol", Takes = "symbol name", Instead = "Find-KernelSymbol -Path '{0}' (what it exports; add -Undefined for what it needs)")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = AvailableSet, Mandatory = true)]
    public SwitchParameter ListAvailable { get; set; }

    [Parameter(ParameterSetName = AvailableSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string? KernelVersion { get; set; }

    [Parameter(ParameterSetName = PathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public SwitchParameter Undefined { get; set; }

    /// <summary>
    /// As every cmdlet's -Root, and also from the pipeline by property name: a module object listed
    /// from an image (Get-KernelModule -Root R -ListAvailable) carries R, so -Undefined resolves
    /// against that image, not this machine.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public override string Root { get => base.Root; set => base.Root = value; }

    private SystemRoot SystemRoot => OpenRoot();

    protected override void ProcessRecord()
    {
        var names = ModuleNamePatterns.Validate(this, Name);
        if (names is { Length: 0 })
            return;
        Name = names;
        try
        {
            switch (ParameterSetName)
            {
                case AvailableSet:
                    WriteTreeSymbols();
                    break;
                case PathSet:
                case LiteralPathSet:
                    foreach (var file in ModuleFilePaths.Resolve(this, Path, LiteralPath))
                        WriteFileSymbols(file);
                    break;
                default:
                    WriteKernelSymbols();
                    break;
            }
        }
        catch (Exception e) when (ModuleErrors.ForReadFailure(e, Root,
            ParameterSetName == KernelSet ? "InvalidSymbolTable" : "InvalidModuleIndex") is { } record)
        {
            WriteError(record);
        }
    }

    private WildcardPattern[] Patterns() =>
        (Name ?? []).Select(n => WildcardPattern.Get(n, WildcardOptions.None)).ToArray();

    private bool Matches(WildcardPattern[] patterns, string name) => patterns.Length == 0 || patterns.Any(p => p.IsMatch(name));

    private void WriteKernelSymbols()
    {
        var kernel = new RunningKernel(SystemRoot);
        if (!kernel.Kallsyms.Exists)
        {
            WriteError(ModuleErrors.New(new FileNotFoundException($"{kernel.Kallsyms.Path} does not exist: this kernel (or root) publishes no symbol table. Use -ListAvailable to search the installed modules instead."),
                "KallsymsUnavailable", ErrorCategory.ResourceUnavailable, kernel.Kallsyms.Path));
            return;
        }
        var filter = Name is null ? null : SymbolNameFilters.Any(Name.Select(n => SymbolNameFilters.Wildcard(n, ignoreCase: false)).ToArray());
        // Only names given without wildcards need remembering (to report the ones not found), so
        // memory stays independent of the file's length: a 10M-line kallsyms streams through.
        var found = new HashSet<string>(StringComparer.Ordinal);
        var literals = LiteralNames();
        // Each line straight into the object written (no engine record in between), and the
        // found-name bookkeeping only when a name without wildcards was given.
        var symbols = kernel.Kallsyms.Read(filter, MakeKernelSymbol);
        if (literals.Count == 0)
        {
            foreach (var s in symbols)
                WriteObject(s);
        }
        else
        {
            foreach (var s in symbols)
            {
                if (literals.Contains(s.Name))
                    found.Add(s.Name);
                WriteObject(s);
            }
        }
        // Streamed again for the suggestions, never held: a kallsyms of any length costs no memory.
        ReportLiteralMisses(found, "the running kernel's symbol table", () => kernel.Kallsyms.Read(null).Select(s => s.Name));
    }

    private void WriteTreeSymbols()
    {
        var directory = ModuleTrees.Open(this, SystemRoot, KernelVersion);
        if (directory is null)
            return;
        // Without depmod's symbol index nothing is known to export anything: say so, never "not found".
        if (!directory.HasSymbolIndex)
            throw new Engine.ModuleTree.ModuleTreeNotIndexedException(directory, Engine.ModuleTree.ModulesSymbolsFile.FileName, "which installed module exports each symbol");
        var patterns = Patterns();
        var found = new HashSet<string>(StringComparer.Ordinal);
        var literals = LiteralNames();
        foreach (var s in directory.ExportedSymbols())
        {
            if (!Matches(patterns, s.Symbol))
                continue;
            if (literals.Contains(s.Symbol))
                found.Add(s.Symbol);
            WriteObject(new KernelSymbol
            {
                Name = s.Symbol,
                Module = s.Module,
                Source = "ModuleTree",
                Path = directory.FindModule(s.Module)?.Path,
            });
        }
        ReportLiteralMisses(found, $"the modules installed for {directory.KernelVersion} (modules.symbols)", () => directory.ExportedSymbols().Select(s => s.Symbol));
    }

    /// <summary>The -Name values without wildcards: the only names whose absence is an error.</summary>
    private HashSet<string> LiteralNames() =>
        new((Name ?? []).Where(n => !WildcardPattern.ContainsWildcardCharacters(n)), StringComparer.Ordinal);

    /// <remarks><paramref name="known"/>: every name of the source, enumerated only when a name was missed, for "did you mean".</remarks>
    private void ReportLiteralMisses(HashSet<string> found, string where, Func<IEnumerable<string>> known)
    {
        foreach (var n in Name ?? [])
            if (!WildcardPattern.ContainsWildcardCharacters(n) && !found.Contains(n))
                WriteError(Suggestions.Add(ModuleErrors.New(new ItemNotFoundException($"No symbol named '{n}' in {where}."),
                    "SymbolNotFound", ErrorCategory.ObjectNotFound, n), n, known(), moduleNames: false));
    }

    private void WriteFileSymbols(string path)
    {
        if (ModuleErrors.TryReadModuleFile(this, path) is not { } module)
            return;
        var patterns = Patterns();
        if (!Undefined)
        {
            foreach (var s in module.Exports)
                if (Matches(patterns, s.Name))
                    WriteObject(new KernelSymbol { Name = s.Name, Module = module.Name, Source = "ModuleFile", Path = module.Path, Crc = FormatCrc(s.Crc) });
            return;
        }
        var version = KernelVersion ?? module.KernelVersion;
        var resolver = new SymbolProviderResolver(SystemRoot, version);
        var unverified = 0;
        foreach (var need in module.RequiredSymbols)
        {
            if (!Matches(patterns, need.Name))
                continue;
            var provider = resolver.Resolve(need.Name);
            if (provider.Kind == SymbolProviderKind.Unverified)
                unverified++;
            // Its own view (LkmPowerShell.Format.ps1xml): who provides it is the point of -Undefined.
            var symbol = new PSObject(new KernelSymbol
            {
                Name = need.Name,
                Module = provider.Module,
                Source = "ModuleFile",
                Path = module.Path,
                Crc = FormatCrc(need.Crc),
                RequiredBy = module.Name,
                ProviderKind = provider.Kind.ToString(),
                ProviderPath = provider.Path,
                IsWeak = need.IsWeak,
            });
            symbol.TypeNames.Insert(0, UndefinedSymbolView);
            WriteObject(symbol);
        }
        if (unverified > 0)
        {
            var v = version ?? "VERSION";
            var remedy = resolver.KernelCheckedIn is null
                ? $"Run this where {v} runs, or install linux-headers-{v} (its Module.symvers lists what the kernel image exports)"
                : "";
            if (!resolver.ModulesChecked)
                remedy += (remedy.Length > 0 ? "; and " : "") + $"install {v}'s modules (or give -Root an image with them) and index them with Update-ModuleDependency";
            WriteWarning($"{module.Name}: {unverified} needed symbol{(unverified == 1 ? " is" : "s are")} marked Unverified, not found but not ruled out: {resolver.Unchecked(version)}. {remedy}.");
        }
    }

    private static readonly Func<string, ulong?, char, string?, KernelSymbol> MakeKernelSymbol = static (name, address, type, module) => new KernelSymbol
    {
        Name = name,
        Type = TypeLetter(type),
        AddressValue = address,
        Module = module,
        Source = "RunningKernel",
    };

    /// <summary>The type name of -Undefined's output, whose default view shows the provider.</summary>
    private const string UndefinedSymbolView = "LkmPowerShell.KernelSymbol#Undefined";

    /// <summary>The type letters as strings made once, not once per symbol.</summary>
    private static readonly string[] TypeLetters = Enumerable.Range(0, 128).Select(c => ((char)c).ToString()).ToArray();

    private static string TypeLetter(char type) => type < TypeLetters.Length ? TypeLetters[type] : type.ToString();

    private static string? FormatCrc(ulong? crc) => crc is { } c ? $"0x{c:x8}" : null;
}
