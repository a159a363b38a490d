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
    internal KernelModuleFile(ModuleFileInfo info) : this(info.Name, info.Path, info.KernelVersion, info.ModInfo, info.Parameters)
    {
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

    /// <summary>
    /// A module built into the kernel image, as modinfo shows it from modules.builtin.modinfo: no
    /// file (Path is null, ToModinfoText() says "(builtin)"), IsBuiltin set.
    /// </summary>
    internal KernelModuleFile(BuiltinModuleInfo builtin) : this(builtin.Name, null, builtin.KernelVersion, builtin.ModInfo, builtin.Parameters)
    {
        IsBuiltin = true;
        InTree = true; // compiled into the kernel image, so part of its tree (modules.builtin.modinfo has no intree record)
        var fields = new OrderedDictionary(StringComparer.Ordinal);
        foreach (var key in builtin.ModInfo.Select(e => e.Key).Distinct())
            fields[key] = Texts(ModinfoText.Field(builtin, key));
        Fields = fields;
        _builtin = builtin;
    }

    /// <summary>What a module file and a built-in module alike say in their modinfo records.</summary>
    private KernelModuleFile(string name, string? path, string? kernelVersion, IReadOnlyList<ModInfoEntry> info, IReadOnlyList<ModuleParameterInfo> parameters)
    {
        Name = name;
        Path = path;
        string? Value(string key) => info.Where(e => e.Key == key).Select(e => e.Value).FirstOrDefault();
        IEnumerable<string> Values(string key) => info.Where(e => e.Key == key).Select(e => e.Value);
        VersionMagic = Text(Value("vermagic"));
        KernelVersion = Text(kernelVersion);
        // A module may carry a field twice (soundwire-intel has two descriptions): keep them all.
        Description = Joined(Values("description"));
        Author = Texts(Values("author"));
        License = Joined(Values("license"));
        Version = Text(Value("version"));
        SourceVersion = Text(Value("srcversion"));
        Aliases = Texts(Values("alias"));
        var depends = Text(Value("depends"));
        // Module names in the kernel's form (snd_pcm, not snd-pcm), as Name and UsedBy have them,
        // so Where-Object Depends -contains 'snd_pcm' finds what it should; Fields keeps modinfo's text.
        Depends = new ValueList(string.IsNullOrEmpty(depends) ? [] : depends.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ModuleName.Normalize));
        SoftDependencies = new ValueList(Values("softdep").Select(v => NormalizeSoftdep(Text(v)!)));
        WeakDependencies = Texts(Values("weakdep"));
        Firmware = Texts(Values("firmware"));
        ImportNamespaces = Texts(Values("import_ns"));
        Parameters = new ObjectList<KernelModuleParameterInfo>(parameters.Select(p => new KernelModuleParameterInfo(p.Name, Text(p.Type), Text(p.Description))));
        InTree = Text(Value("intree")) == "Y";
        Retpoline = Text(Value("retpoline")) == "Y";
        Fields = new OrderedDictionary(StringComparer.Ordinal);
    }

    private readonly ModuleFileInfo? _info;
    private readonly BuiltinModuleInfo? _builtin;

    public string Name { get; }

    /// <summary>The module file; null for a module built into the kernel (<see cref="IsBuiltin"/>).</summary>
    public string? Path { get; }

    /// <summary>Built into the kernel image: its facts come from modules.builtin.modinfo, there is no file to load.</summary>
    public bool IsBuiltin { get; }
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
    /// <summary>The file's compression; null for a built-in module.</summary>
    public string? Compression { get; }

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
    public string[] GetField(string field) => [.. Texts(_builtin is not null ? ModinfoText.Field(_builtin, field) : ModinfoText.Field(_info!, field))];

    /// <summary>The whole modinfo text for this file (or built-in module), byte for byte as kmod's modinfo prints it.</summary>
    public string ToModinfoText() => Text(_builtin is not null ? ModinfoText.Format(_builtin) : ModinfoText.Format(_info!))!;

    /// <summary>The engine's facts of the file; null for a built-in module.</summary>
    internal ModuleFileInfo? Info => _info;

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

    public override string ToString() => Path ?? Name;
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
