using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell;

/// <summary>
/// A module file, as modinfo describes it: flat properties of simple types, so the object stays
/// useful after remoting turns it into a property bag.
/// </summary>
/// <remarks>
/// Name and Path are known from the index; everything else comes from the file. A listing makes
/// the object before the file is read (<see cref="Deferred"/>): the file is read the first time
/// any of those properties is asked for, once, and then every property shows what an object made
/// from an eager read shows. PowerShell turns an exception in a property getter into a silent
/// $null, so a file that turns out unreadable then is not thrown about: its properties are empty
/// and <see cref="ReadProblem"/> says why (the methods, whose exceptions PowerShell does show, throw).
/// </remarks>
public sealed class KernelModuleFile
{
    internal KernelModuleFile(ModuleFileInfo info)
    {
        Name = info.Name;
        Path = info.Path;
        _info = new Lazy<ModuleFileInfo>(info);
        _shown = new Lazy<Shown>(() => new Shown(_info.Value), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    private KernelModuleFile(string name, string path, Func<ModuleFileInfo> read, FileStamp stamp, IndexedModuleFacts? index, string? root)
    {
        Name = name;
        Path = path;
        Root = root;
        _stamp = stamp;
        _index = index;
        // What depmod copied from the file is taken from its index only while the file is the one
        // it indexed (not written since): otherwise the file says it.
        _indexCurrent = index is not null && index.Covers(stamp.LastWriteTimeUtc);
        _info = new Lazy<ModuleFileInfo>(() =>
        {
            try
            {
                return read();
            }
            finally
            {
                // Read (or found unreadable, which is as final): serialise every property from now on.
                ForgetDeferredTypeName();
            }
        }, LazyThreadSafetyMode.ExecutionAndPublication);
        _shown = new Lazy<Shown>(() =>
        {
            try
            {
                return new Shown(_info.Value);
            }
            catch (Exception e) when (ModuleErrors.IsModuleFileFailure(e))
            {
                return Shown.Unreadable(e.Message);
            }
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// An object whose file is read when a property that needs it is first asked for. What the
    /// listing's stat (<paramref name="stamp"/>) and depmod's index (<paramref name="index"/>)
    /// already know is answered from them: FileSize, Aliases, SoftDependencies, RequiredModules.
    /// </summary>
    internal static KernelModuleFile Deferred(string name, string path, Func<ModuleFileInfo> read, FileStamp stamp, IndexedModuleFacts? index, string? root) =>
        new(name, path, read, stamp, index, root);

    /// <summary>
    /// A module built into the kernel image, as modinfo shows it from modules.builtin.modinfo: no
    /// file (Path is null, ToModinfoText() says "(builtin)"), IsBuiltin set.
    /// </summary>
    internal KernelModuleFile(BuiltinModuleInfo builtin)
    {
        Name = builtin.Name;
        Path = null;
        IsBuiltin = true;
        _builtin = builtin;
        _info = new Lazy<ModuleFileInfo>(() => throw new InvalidOperationException("a built-in module has no file"));
        _shown = new Lazy<Shown>(new Shown(builtin));
    }

    private readonly Lazy<ModuleFileInfo> _info;
    private readonly BuiltinModuleInfo? _builtin;
    private readonly Lazy<Shown> _shown;
    private readonly FileStamp? _stamp;
    private readonly IndexedModuleFacts? _index;
    private readonly bool _indexCurrent;
    private ValueList? _aliases, _softDependencies, _requiredModules;
    private System.Collections.ObjectModel.Collection<string>? _typeNames;
    private readonly object _typeNameGate = new();

    /// <summary>
    /// The type name a listing's object carries until its file is read: LkmPowerShell.Types.ps1xml
    /// gives it SerializationMethod SpecificProperties with what the listing already knows, so
    /// remoting and Export-Clixml send a listing without reading every file.
    /// </summary>
    /// <remarks>
    /// Why a type name: PowerShell takes SerializationMethod and PropertySerializationSet from the
    /// type table only, looked up by the object's type names (an instance PSStandardMembers is
    /// serialised as data, not obeyed), and only as notes, so a property that decides per object
    /// is not possible. The object's type names are what can change per object, and once the file
    /// is read (any property that needs it) the name is removed, so the object then serialises
    /// every property as an object made by -Name or -LiteralPath does.
    /// </remarks>
    internal const string DeferredTypeName = "LkmPowerShell.KernelModuleFile#Deferred";

    /// <summary>The same, for a file written since depmod indexed it: its aliases and softdeps come from the file, so they wait too.</summary>
    internal const string DeferredStaleIndexTypeName = "LkmPowerShell.KernelModuleFile#DeferredStaleIndex";

    /// <summary>
    /// The object as a listing writes it: a deferred object not yet read carries
    /// <see cref="DeferredTypeName"/> (PowerShell keeps an object's type names with the object, so
    /// every later wrapping of it carries the name too).
    /// </summary>
    internal PSObject AsListed()
    {
        var wrapped = PSObject.AsPSObject(this);
        lock (_typeNameGate)
        {
            if (!IsRead && _typeNames is null && _stamp is not null)
            {
                _typeNames = wrapped.TypeNames;
                _typeNames.Insert(0, _indexCurrent ? DeferredTypeName : DeferredStaleIndexTypeName);
            }
        }
        return wrapped;
    }

    private void ForgetDeferredTypeName()
    {
        lock (_typeNameGate)
        {
            _typeNames?.Remove(DeferredTypeName);
            _typeNames?.Remove(DeferredStaleIndexTypeName);
            _typeNames = null;
        }
    }

    /// <summary>Whether the file has been read (for tests and diagnostics; reading it is what the other properties do).</summary>
    internal bool IsRead => _builtin is not null || _info.IsValueCreated;

    public string Name { get; }

    /// <summary>The module file; null for a module built into the kernel (<see cref="IsBuiltin"/>).</summary>
    public string? Path { get; }

    /// <summary>Built into the kernel image: its facts come from modules.builtin.modinfo, there is no file to load.</summary>
    public bool IsBuiltin { get; }

    /// <summary>
    /// The system the module was listed from: -Root as given ("/" for this machine), so a command
    /// that receives the object reads the same image (Find-KernelSymbol -Undefined); null for -Path.
    /// </summary>
    public string? Root { get; }

    /// <summary>
    /// When -Name named an alias rather than a module (modinfo fs-msdos, a device's modalias): the
    /// pattern that matched it, as the module (or modprobe.d) declares it. Null when found by name.
    /// </summary>
    public string? MatchedAlias { get; private set; }

    public string? KernelVersion => _shown.Value.KernelVersion;
    public string? Description => _shown.Value.Description;
    public ValueList Author => _shown.Value.Author;

    /// <summary>Every license the module declares (a list, as Author is); usually one.</summary>
    public ValueList License => _shown.Value.License;
    public string? Version => _shown.Value.Version;
    public string? SourceVersion => _shown.Value.SourceVersion;

    /// <summary>The module's aliases; in a listing from modules.alias (no file read) while depmod's index is current.</summary>
    public ValueList Aliases => _aliases ??= FromIndex(static (index, name) => index.Aliases(name)) ?? _shown.Value.Aliases;

    /// <summary>The modules this one names in its own modinfo "depends" (the direct ones), as modinfo prints them.</summary>
    public ValueList Depends => _shown.Value.Depends;

    /// <summary>
    /// Every module modprobe loads before this one, first loaded first: depmod's whole closure
    /// from modules.dep, so the index answers (no file is read). -ListAvailable only; null with
    /// -Path and for a module the index does not list. "Which modules need fat":
    /// Where-Object RequiredModules -contains fat.
    /// </summary>
    public ValueList? RequiredModules => _requiredModules ??= _index?.RequiredModules(Name) is { } names ? new ValueList(names) : null;

    /// <summary>The module's soft dependencies; in a listing from modules.softdep (no file read) while depmod's index is current.</summary>
    public ValueList SoftDependencies => _softDependencies ??= FromIndex(static (index, name) => index.SoftDependencies(name)?.Select(v => NormalizeSoftdep(Text(v)!))) ?? _shown.Value.SoftDependencies;
    public ValueList WeakDependencies => _shown.Value.WeakDependencies;
    public ValueList Firmware => _shown.Value.Firmware;
    public ValueList ImportNamespaces => _shown.Value.ImportNamespaces;
    public ObjectList<KernelModuleParameterInfo> Parameters => _shown.Value.Parameters;
    public string? VersionMagic => _shown.Value.VersionMagic;
    public bool InTree => _shown.Value.InTree;
    public bool Retpoline => _shown.Value.Retpoline;
    public string? SignatureId => _shown.Value.SignatureId;
    public string? Signer => _shown.Value.Signer;
    public string? KeyId => _shown.Value.KeyId;
    public string? HashAlgorithm => _shown.Value.HashAlgorithm;
    public string? Signature => _shown.Value.Signature;
    /// <summary>The file's compression; null for a built-in module.</summary>
    public string? Compression => _shown.Value.Compression;

    /// <summary>Why the signature trailer could not be read, when it could not (the module then counts as unsigned).</summary>
    public string? SignatureProblem => _shown.Value.SignatureProblem;

    /// <summary>Why the symbol table could not be read, when it could not (.modinfo is shown all the same).</summary>
    public string? SymbolProblem => _shown.Value.SymbolProblem;

    /// <summary>The file's size in bytes (compressed, as stored); in a listing from the stat it made, no file read.</summary>
    public long FileSize => _stamp is { } stamp ? stamp.Size : _shown.Value.FileSize;

    /// <summary>The name in the module's struct module: what the kernel calls it once loaded.</summary>
    public string? InternalName => _shown.Value.InternalName;

    public int ExportedSymbolCount => _shown.Value.ExportedSymbolCount;
    public int RequiredSymbolCount => _shown.Value.RequiredSymbolCount;

    /// <summary>
    /// -ListAvailable only: why the file could not be read when a property first needed it (it was
    /// damaged or removed after the listing checked it); the other file properties are then empty.
    /// Null when it was read, and always with -Path, which reports such a file as an error instead.
    /// </summary>
    public string? ReadProblem => _shown.Value.ReadProblem;

    /// <summary>Every modinfo field, in modinfo's order, each with all its values (what "modinfo -F key" prints).</summary>
    public ModinfoFieldTable Fields => _shown.Value.Fields;

    /// <summary>
    /// -ListAvailable only: whether modprobe.d stops modprobe from loading it (the first install
    /// command that matches does nothing, as Disable-KernelModule writes it), and where; null with -Path.
    /// </summary>
    public bool? Disabled { get; private set; }
    public string? DisabledBy { get; private set; }

    /// <summary>-ListAvailable only: whether a blacklist entry names it, and where; null with -Path.</summary>
    public bool? Blacklisted { get; private set; }
    public string? BlacklistedBy { get; private set; }

    /// <summary>Records the alias that -Name matched (see <see cref="MatchedAlias"/>).</summary>
    internal KernelModuleFile WithMatchedAlias(string? alias)
    {
        MatchedAlias = alias;
        return this;
    }

    /// <summary>A fact depmod's index holds, when it is current for this file; null to read the file instead.</summary>
    private ValueList? FromIndex(Func<IndexedModuleFacts, string, IEnumerable<string>?> fact) =>
        _indexCurrent && fact(_index!, Name) is { } values ? Texts(values) : null;

    /// <summary>Fills <see cref="Disabled"/> and <see cref="Blacklisted"/> from the system's configuration.</summary>
    internal KernelModuleFile WithLoadBlock(LkmPowerShell.Engine.Configuration.ModuleLoadBlock block)
    {
        Disabled = block.Disabled;
        DisabledBy = block.DisabledBy?.ToString();
        Blacklisted = block.Blacklisted;
        BlacklistedBy = block.BlacklistedBy?.ToString();
        return this;
    }

    /// <summary>
    /// -CheckSignature only (null otherwise): the kernel's verdict on the file's signature, checked
    /// against the certificates built into its kernel image and any given with -Certificate:
    /// Valid, Invalid, UnknownKey, Unsigned or Unsupported.
    /// </summary>
    public string? SignatureStatus { get; private set; }

    /// <summary>-CheckSignature only: why (the reason in words, with the kernel's error where it would refuse the module).</summary>
    public string? SignatureStatusReason { get; private set; }

    /// <summary>-CheckSignature only: the certificate that verified the signature (subject, serial, where it was read), when Valid.</summary>
    public string? SignatureCertificate { get; private set; }

    /// <summary>Fills the signature verdict properties.</summary>
    internal KernelModuleFile WithSignatureCheck(LkmPowerShell.Engine.Integrity.ModuleSignatureCheck check)
    {
        SignatureStatus = check.Verdict.ToString();
        SignatureStatusReason = check.Reason;
        SignatureCertificate = check.Certificate?.ToString();
        return this;
    }

    /// <summary>The values "modinfo -F field" prints for this file.</summary>
    public string[] GetField(string field) => [.. Texts(_builtin is not null ? ModinfoText.Field(_builtin, field) : ModinfoText.Field(_info.Value, field))];

    /// <summary>The whole modinfo text for this file, byte for byte as kmod's modinfo prints it.</summary>
    public string ToModinfoText() => Text(_builtin is not null ? ModinfoText.Format(_builtin) : ModinfoText.Format(_info.Value))!;

    /// <summary>The engine's facts of the file; null for a built-in module.</summary>
    internal ModuleFileInfo? Info => _builtin is not null ? null : _info.Value;

    /// <summary>What the properties show, made from the file's facts once, when first asked for.</summary>
    private sealed class Shown
    {
        private static readonly ValueList NoValues = new([]);

        /// <summary>A file that could not be read: nothing but the reason.</summary>
        private Shown(string problem)
        {
            ReadProblem = problem;
            Author = License = Aliases = Depends = SoftDependencies = WeakDependencies = Firmware = ImportNamespaces = NoValues;
            Parameters = new ObjectList<KernelModuleParameterInfo>([]);
            Compression = null;
            Fields = new ModinfoFieldTable();
        }

        public static Shown Unreadable(string problem) => new(problem);

        /// <summary>What a module file and a built-in module alike say in their modinfo records.</summary>
        private Shown(string? kernelVersion, IReadOnlyList<ModInfoEntry> info, IReadOnlyList<ModuleParameterInfo> parameters)
        {
            string? Value(string key) => info.Where(e => e.Key == key).Select(e => e.Value).FirstOrDefault();
            IEnumerable<string> Values(string key) => info.Where(e => e.Key == key).Select(e => e.Value);
            VersionMagic = Text(Value("vermagic"));
            KernelVersion = Text(kernelVersion);
            // A module may carry a field twice (soundwire-intel has two descriptions): keep them all.
            Description = Joined(Values("description"));
            Author = Texts(Values("author"));
            License = Texts(Values("license"));
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
            Fields = new ModinfoFieldTable();
        }

        /// <summary>A built-in module: its modules.builtin.modinfo records, no file.</summary>
        public Shown(BuiltinModuleInfo builtin) : this(builtin.KernelVersion, builtin.ModInfo, builtin.Parameters)
        {
            InTree = true; // compiled into the kernel image, so part of its tree (modules.builtin.modinfo has no intree record)
            foreach (var key in builtin.ModInfo.Select(e => e.Key).Distinct())
                Fields[key] = Texts(ModinfoText.Field(builtin, key));
        }

        public Shown(ModuleFileInfo info) : this(info.KernelVersion, info.ModInfo, info.Parameters)
        {
            SignatureProblem = info.SignatureProblem;
            SymbolProblem = info.SymbolProblem;
            FileSize = info.FileSize;
            InternalName = info.InternalName;
            ExportedSymbolCount = info.ExportedSymbolCount;
            RequiredSymbolCount = info.RequiredSymbolCount;
            var parameters = info.Parameters;
            Compression = info.Compression.ToString();
            if (info.Signature is { } sig)
            {
                SignatureId = sig.SignatureId;
                Signer = sig.Signer;
                KeyId = sig.KeyId.Length > 0 ? sig.FormatKeyId() : null;
                HashAlgorithm = sig.HashAlgorithm;
                // Plain hex: modinfo's colon-separated lines wrapped with tabs are for a terminal;
                // ToModinfoText() and Fields keep that form.
                Signature = Convert.ToHexString(sig.Signature);
            }
            // modinfo's fields, each key once with all its values, from one pass over them
            // (the signature is formatted once, not once a key).
            // The special keys as ModinfoText.Field answers them: filename is the path, parm is merged.
            var keys = new List<string>();
            var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var e in info.ModinfoFields())
            {
                if (!values.TryGetValue(e.Key, out var list))
                {
                    keys.Add(e.Key);
                    values[e.Key] = list = [];
                }
                list.Add(e.Value);
            }
            var fields = Fields;
            foreach (var key in keys)
                fields[key] = key switch
                {
                    "filename" => Texts([info.Path]),
                    "parm" => Texts(parameters.Select(p => p.ToString())),
                    _ => Texts(values[key]),
                };
        }

        public string? KernelVersion { get; }
        public string? Description { get; }
        public ValueList Author { get; }
        public ValueList License { get; }
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
        public string? Compression { get; }
        public ModinfoFieldTable Fields { get; }
        public string? SignatureProblem { get; }
        public string? SymbolProblem { get; }
        public long FileSize { get; }
        public string? InternalName { get; }
        public int ExportedSymbolCount { get; }
        public int RequiredSymbolCount { get; }
        public string? ReadProblem { get; }
    }

    /// <summary>
    /// The engine keeps module strings as Latin-1 (one char a byte, so output stays byte-exact);
    /// shown to a PowerShell user, bytes that form UTF-8 (authors' names, mostly) read as UTF-8.
    /// </summary>
    private static string? Text(string? latin1) => latin1 is null ? null : Engine.ByteText.ToText(latin1);

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

/// <summary>
/// modinfo's fields by key (each value a list): a dictionary to index (Fields['alias']), whose
/// ToString lists "key=value" in modinfo's order, so Export-Csv and string expansion write the
/// fields rather than the type's name.
/// </summary>
public sealed class ModinfoFieldTable : OrderedDictionary
{
    public ModinfoFieldTable() : base(StringComparer.Ordinal)
    {
    }

    public override string ToString()
    {
        var parts = new List<string>();
        foreach (DictionaryEntry e in this)
            foreach (var value in e.Value as IEnumerable<string> ?? [])
                parts.Add($"{e.Key}={value}");
        return string.Join(ValueList.Separator, parts);
    }
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
