using System.Collections.Specialized;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell;

/// <summary>
/// A module file, as modinfo describes it: flat properties of simple types, so the object stays
/// useful after remoting turns it into a property bag.
/// </summary>
public sealed class KernelModuleFile
{
    internal KernelModuleFile(ModuleFileInfo info)
    {
        Name = info.Name;
        Path = info.Path;
        var vermagic = Text(info.GetValue("vermagic"));
        VersionMagic = vermagic;
        KernelVersion = Text(info.KernelVersion);
        // A module may carry a field twice (soundwire-intel has two descriptions): keep them all.
        Description = Joined(info.GetValues("description"));
        Author = Texts(info.GetValues("author"));
        License = Joined(info.GetValues("license"));
        Version = Text(info.GetValue("version"));
        SourceVersion = Text(info.GetValue("srcversion"));
        Aliases = Texts(info.GetValues("alias"));
        var depends = Text(info.GetValue("depends"));
        // Module names in the kernel's form (snd_pcm, not snd-pcm), as Name and UsedBy have them,
        // so Where-Object Depends -contains 'snd_pcm' finds what it should; Fields keeps modinfo's text.
        Depends = new ValueList(string.IsNullOrEmpty(depends) ? [] : depends.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ModuleName.Normalize));
        SoftDependencies = new ValueList(info.GetValues("softdep").Select(v => NormalizeSoftdep(Text(v)!)));
        WeakDependencies = Texts(info.GetValues("weakdep"));
        Firmware = Texts(info.GetValues("firmware"));
        ImportNamespaces = Texts(info.GetValues("import_ns"));
        Parameters = new ObjectList<KernelModuleParameterInfo>(info.Parameters.Select(p => new KernelModuleParameterInfo(p.Name, Text(p.Type), Text(p.Description))));
        InTree = Text(info.GetValue("intree")) == "Y";
        Retpoline = Text(info.GetValue("retpoline")) == "Y";
        Compression = info.Compression.ToString();
        FileSize = info.FileSize;
        InternalName = info.InternalName;
        if (info.Signature is { } sig)
        {
            SignatureId = sig.SignatureId;
            Signer = sig.Signer;
            KeyId = sig.KeyId.Length > 0 ? sig.FormatKeyId() : null;
            HashAlgorithm = sig.HashAlgorithm;
            // Plain hex: modinfo's colon-separated lines wrapped with tabs are for a terminal;
            // ToModinfoText() and Fields keep that form.
            Signature = string.Concat(sig.FormatSignature().Where(char.IsAsciiHexDigit));
        }
        SignatureProblem = info.SignatureProblem;
        SymbolProblem = info.SymbolProblem;
        ExportedSymbolCount = info.Exports.Count;
        RequiredSymbolCount = info.RequiredSymbols.Count;
        var fields = new OrderedDictionary(StringComparer.Ordinal);
        foreach (var key in info.ModinfoFields().Select(e => e.Key).Distinct())
            fields[key] = Texts(ModinfoText.Field(info, key));
        Fields = fields;
        _info = info;
    }

    private readonly ModuleFileInfo _info;

    public string Name { get; }
    public string Path { get; }
    public string? KernelVersion { get; }
    public string? Description { get; }
    public ValueList Author { get; }
    public string? License { get; }
    public string? Version { get; }
    public string? SourceVersion { get; }
    public ValueList Aliases { get; }
    public ValueList Depends { get; }
    public ValueList SoftDependencies { get; }
    public ValueList WeakDependencies { get; }
    public ValueList Firmware { get; }
    public ValueList ImportNamespaces { get; }
    public ObjectList<KernelModuleParameterInfo> Parameters { get; }
    public string? VersionMagic { get; }
    public bool InTree { get; }
    public bool Retpoline { get; }
    public string? SignatureId { get; }
    public string? Signer { get; }
    public string? KeyId { get; }
    public string? HashAlgorithm { get; }
    public string? Signature { get; }
    public string Compression { get; }

    /// <summary>Why the signature trailer could not be read, when it could not (the module then counts as unsigned).</summary>
    public string? SignatureProblem { get; }

    /// <summary>Why the symbol table could not be read, when it could not (.modinfo is shown all the same).</summary>
    public string? SymbolProblem { get; }
    public long FileSize { get; }

    /// <summary>The name in the module's struct module: what the kernel calls it once loaded.</summary>
    public string? InternalName { get; }

    public int ExportedSymbolCount { get; }
    public int RequiredSymbolCount { get; }

    /// <summary>Every modinfo field, in modinfo's order, each with all its values (what "modinfo -F key" prints).</summary>
    public OrderedDictionary Fields { get; }

    /// <summary>
    /// -ListAvailable only: whether modprobe.d stops modprobe from loading it (the first install
    /// command that matches does nothing, as Disable-KernelModule writes it), and where; null with -Path.
    /// </summary>
    public bool? Disabled { get; private set; }
    public string? DisabledBy { get; private set; }

    /// <summary>-ListAvailable only: whether a blacklist entry names it, and where; null with -Path.</summary>
    public bool? Blacklisted { get; private set; }
    public string? BlacklistedBy { get; private set; }

    /// <summary>Fills <see cref="Disabled"/> and <see cref="Blacklisted"/> from the system's configuration.</summary>
    internal KernelModuleFile WithLoadBlock(LkmPowerShell.Engine.Configuration.ModuleLoadBlock block)
    {
        Disabled = block.Disabled;
        DisabledBy = block.DisabledBy?.ToString();
        Blacklisted = block.Blacklisted;
        BlacklistedBy = block.BlacklistedBy?.ToString();
        return this;
    }

    /// <summary>The values "modinfo -F field" prints for this file.</summary>
    public string[] GetField(string field) => [.. Texts(ModinfoText.Field(_info, field))];

    /// <summary>The whole modinfo text for this file, byte for byte as kmod's modinfo prints it.</summary>
    public string ToModinfoText() => Text(ModinfoText.Format(_info))!;

    internal ModuleFileInfo Info => _info;

    /// <summary>
    /// The engine keeps module strings as Latin-1 (one char a byte, so output stays byte-exact);
    /// shown to a PowerShell user, bytes that form UTF-8 (authors' names, mostly) read as UTF-8.
    /// </summary>
    private static string? Text(string? latin1)
    {
        if (latin1 is null || latin1.All(c => c < 0x80))
            return latin1;
        var bytes = System.Text.Encoding.Latin1.GetBytes(latin1);
        try
        {
            return new System.Text.UTF8Encoding(false, true).GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException)
        {
            return latin1;
        }
    }

    private static ValueList Texts(IEnumerable<string> values) => new(values.Select(v => Text(v)!));

    /// <summary>Every distinct value of a field, one a line; null when the field is absent.</summary>
    private static string? Joined(IEnumerable<string> values)
    {
        var texts = values.Select(v => Text(v)!).Distinct(StringComparer.Ordinal).ToArray();
        return texts.Length == 0 ? null : string.Join('\n', texts);
    }

    /// <summary>"pre: crypto-crc32c post: x-y" with module names in the kernel's form; the pre:/post: keywords kept.</summary>
    private static string NormalizeSoftdep(string value) =>
        string.Join(' ', value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(t => t.EndsWith(':') ? t : ModuleName.Normalize(t)));

    public override string ToString() => Path;
}

/// <summary>A module parameter as modinfo lists it.</summary>
public sealed class KernelModuleParameterInfo(string name, string? type, string? description)
{
    public string Name { get; } = name;
    public string? Type { get; } = type;
    public string? Description { get; } = description;

    public override string ToString() =>
        Description is null ? $"{Name}: ({Type})" : Type is null ? $"{Name}:{Description}" : $"{Name}:{Description} ({Type})";
}
