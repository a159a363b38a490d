using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Commands;

/// <summary>
/// modprobe -c as objects: every entry of modprobe.d, the tree's modules.softdep and the kernel
/// command line, with file, line and whether it is in effect; -AsText prints what modprobe -c
/// prints (-AsByteStream: its exact bytes); -KernelRequest shows the helper the kernel runs for its own module requests.
/// </summary>
[Cmdlet(VerbsCommon.Get, "KernelModuleConfiguration", DefaultParameterSetName = EntrySet)]
[OutputType(typeof(ConfigurationEntry), ParameterSetName = [EntrySet])]
[OutputType(typeof(string), ParameterSetName = [TextSet])]
[OutputType(typeof(byte[]), ParameterSetName = [ByteSet])]
[OutputType(typeof(KernelRequestSettings), ParameterSetName = [KernelRequestSet])]
public sealed class GetKernelModuleConfigurationCommand : ModuleTreeCmdlet
{
    private const string EntrySet = "Entry";
    private const string TextSet = "Text";
    private const string ByteSet = "Bytes";
    private const string KernelRequestSet = "KernelRequest";

    [Parameter(ParameterSetName = EntrySet, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SymbolToModuleName]
    [ValidateNotAFile("Get-KernelModuleConfiguration")]
    [Alias("ModuleName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.InstalledModuleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = EntrySet)]
    public ConfigurationKind[]? Kind { get; set; }

    [Parameter(ParameterSetName = EntrySet)]
    public SwitchParameter IncludeMasked { get; set; }

    [Parameter(ParameterSetName = TextSet, Mandatory = true)]
    public SwitchParameter AsText { get; set; }

    /// <summary>modprobe -c's exact bytes as one byte[], for configuration that is not UTF-8 (Set-Content -AsByteStream writes it unchanged).</summary>
    [Parameter(ParameterSetName = ByteSet, Mandatory = true)]
    public SwitchParameter AsByteStream { get; set; }

    [Parameter(ParameterSetName = KernelRequestSet, Mandatory = true)]
    public SwitchParameter KernelRequest { get; set; }

    [Parameter(ParameterSetName = EntrySet)]
    [Parameter(ParameterSetName = TextSet)]
    [Parameter(ParameterSetName = ByteSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KernelVersionCompleter))]
    public string? KernelVersion { get; set; }

    private IReadOnlyList<ConfigurationEntry>? _entries;
    private ModuleDirectory? _tree;
    private SystemRoot? _root;

    protected override void BeginProcessing()
    {
        _root = OpenRoot();
        if (ParameterSetName == KernelRequestSet)
            return;
        // The tree adds modules.softdep and the index dump; without one (an image with no
        // modules, a kernel without module support) the modprobe.d files still count, as in kmod.
        _tree = ModuleTrees.OpenIfInstalled(this, _root, KernelVersion, out var failed);
        if (failed)
            return;
        var config = ModprobeConfig.Load(_root, _tree);
        foreach (var w in config.Warnings)
            WriteWarning(w.ToString());
        _entries = EffectiveConfiguration.Entries(config, IncludeMasked);
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == KernelRequestSet)
        {
            WriteObject(KernelRequestSettings.Read(_root!));
            return;
        }
        if (_entries is null)
            return;
        if (ParameterSetName == TextSet)
        {
            // Without modprobe -c's last newline: Set-Content and Out-File end what they write with
            // one, so the file then holds exactly what modprobe -c prints (not one empty line more).
            var text = EffectiveConfiguration.ToModprobeText(_entries, _tree);
            WriteObject(text.EndsWith('\n') ? text[..^1] : text);
            return;
        }
        if (ParameterSetName == ByteSet)
        {
            WriteObject(EffectiveConfiguration.ToModprobeBytes(_entries, _tree), enumerateCollection: false);
            return;
        }
        // The same -Name rules as every cmdlet: an invalid pattern is one error, "-" and "_" are one
        // character outside brackets and a range inside them ('snd-[a-z]*').
        var names = ModuleNamePatterns.Validate(this, Name);
        if (names is { Length: 0 })
            return;
        var patterns = names is null ? null : new ModuleNamePatterns(names);
        foreach (var entry in _entries)
        {
            // The engine keeps the file's bytes; people read them as text (UTF-8 when they are UTF-8).
            var e = entry with { Module = ByteText.ToText(entry.Module), Value = entry.Value is null ? null : ByteText.ToText(entry.Value) };
            if (Kind is { Length: > 0 } && !Kind.Contains(e.Kind))
                continue;
            if (patterns is not null && !names!.Any(e.Concerns) && !patterns.Match(e.Module) && !(e.Kind == ConfigurationKind.Alias && e.Value is not null && patterns.Match(e.Value)))
                continue;
            WriteObject(e);
        }
    }
}
