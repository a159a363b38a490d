using System.Collections.Specialized;
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
        var vermagic = info.GetValue("vermagic");
        VersionMagic = vermagic;
        KernelVersion = vermagic?.Split(' ', 2)[0];
        Description = info.GetValue("description");
        Author = info.GetValues("author").ToArray();
        License = info.GetValue("license");
        Version = info.GetValue("version");
        SourceVersion = info.GetValue("srcversion");
        Aliases = info.GetValues("alias").ToArray();
        var depends = info.GetValue("depends");
        Depends = string.IsNullOrEmpty(depends) ? [] : depends.Split(',', StringSplitOptions.RemoveEmptyEntries);
        SoftDependencies = info.GetValues("softdep").ToArray();
        WeakDependencies = info.GetValues("weakdep").ToArray();
        Firmware = info.GetValues("firmware").ToArray();
        ImportNamespaces = info.GetValues("import_ns").ToArray();
        Parameters = info.Parameters.Select(p => new KernelModuleParameterInfo(p.Name, p.Type, p.Description)).ToArray();
        InTree = info.GetValue("intree") == "Y";
        Retpoline = info.GetValue("retpoline") == "Y";
        Compression = info.Compression.ToString();
        FileSize = info.FileSize;
        InternalName = info.InternalName;
        if (info.Signature is { } sig)
        {
            SignatureId = sig.SignatureId;
            Signer = sig.Signer;
            KeyId = sig.KeyId.Length > 0 ? sig.FormatKeyId() : null;
            HashAlgorithm = sig.HashAlgorithm;
            Signature = sig.FormatSignature();
        }
        SignatureProblem = info.SignatureProblem;
        ExportedSymbolCount = info.Exports.Count;
        RequiredSymbolCount = info.RequiredSymbols.Count;
        var fields = new OrderedDictionary(StringComparer.Ordinal);
        foreach (var key in info.ModinfoFields().Select(e => e.Key).Distinct())
            fields[key] = ModinfoText.Field(info, key).ToArray();
        Fields = fields;
        _info = info;
    }

    private readonly ModuleFileInfo _info;

    public string Name { get; }
    public string Path { get; }
    public string? KernelVersion { get; }
    public string? Description { get; }
    public string[] Author { get; }
    public string? License { get; }
    public string? Version { get; }
    public string? SourceVersion { get; }
    public string[] Aliases { get; }
    public string[] Depends { get; }
    public string[] SoftDependencies { get; }
    public string[] WeakDependencies { get; }
    public string[] Firmware { get; }
    public string[] ImportNamespaces { get; }
    public KernelModuleParameterInfo[] Parameters { get; }
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
    public long FileSize { get; }

    /// <summary>The name in the module's struct module: what the kernel calls it once loaded.</summary>
    public string? InternalName { get; }

    public int ExportedSymbolCount { get; }
    public int RequiredSymbolCount { get; }

    /// <summary>Every modinfo field, in modinfo's order, each with all its values (what "modinfo -F key" prints).</summary>
    public OrderedDictionary Fields { get; }

    /// <summary>The values "modinfo -F field" prints for this file.</summary>
    public string[] GetField(string field) => ModinfoText.Field(_info, field).ToArray();

    /// <summary>The whole modinfo text for this file, byte for byte as kmod's modinfo prints it.</summary>
    public string ToModinfoText() => ModinfoText.Format(_info);

    internal ModuleFileInfo Info => _info;

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
