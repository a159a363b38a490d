using System.Diagnostics.CodeAnalysis;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>How much of a module's symbol tables a read keeps.</summary>
public enum ModuleSymbolDetail
{
    /// <summary>Every exported and required symbol and __versions entry, as depmod and loading need them.</summary>
    Lists,

    /// <summary>
    /// Only how many there are, as modinfo's objects show them: the same checks and problems as
    /// <see cref="Lists"/>, without a string or an object per symbol (half of what reading a
    /// module otherwise costs).
    /// </summary>
    Counts,
}

/// <summary>
/// What a module file says about itself: everything modinfo prints and depmod reads. Holds no
/// reference to the file's bytes, so thousands of these can be kept.
/// </summary>
public sealed class ModuleFileInfo
{
    public required string Path { get; init; }

    /// <summary>kmod's name for the module: its file name up to the first ".", "-" as "_".</summary>
    public required string Name { get; init; }

    /// <summary>The name in .gnu.linkonce.this_module: what the kernel will call the module once loaded.</summary>
    public required string? InternalName { get; init; }

    public required long FileSize { get; init; }
    public required ModuleCompression Compression { get; init; }
    public required bool Is64Bit { get; init; }
    public required bool IsBigEndian { get; init; }
    public required ushort Machine { get; init; }

    /// <summary>The .modinfo strings in file order (kmod's order).</summary>
    public required IReadOnlyList<ModInfoEntry> ModInfo { get; init; }

    /// <summary>The symbols the module exports; read with <see cref="ModuleSymbolDetail.Lists"/> only.</summary>
    [AllowNull] public IReadOnlyList<ExportedSymbol> Exports { get => _exports ?? throw NotKept(); init => _exports = value; }

    /// <summary>The symbols the module needs; read with <see cref="ModuleSymbolDetail.Lists"/> only.</summary>
    [AllowNull] public IReadOnlyList<RequiredSymbol> RequiredSymbols { get => _required ?? throw NotKept(); init => _required = value; }

    /// <summary>The __versions entries; read with <see cref="ModuleSymbolDetail.Lists"/> only.</summary>
    [AllowNull] public IReadOnlyList<SymbolVersion> Versions { get => _versions ?? throw NotKept(); init => _versions = value; }

    /// <summary>How many symbols <see cref="Exports"/> holds (or would hold, when only counted).</summary>
    public required int ExportedSymbolCount { get; init; }

    /// <summary>How many symbols <see cref="RequiredSymbols"/> holds (or would hold, when only counted).</summary>
    public required int RequiredSymbolCount { get; init; }

    /// <summary>How this was read: with the symbol lists, or with their counts only.</summary>
    public required ModuleSymbolDetail SymbolDetail { get; init; }

    private readonly IReadOnlyList<ExportedSymbol>? _exports;
    private readonly IReadOnlyList<RequiredSymbol>? _required;
    private readonly IReadOnlyList<SymbolVersion>? _versions;

    private InvalidOperationException NotKept() =>
        new($"{Path} was read for what modinfo shows: its symbols were counted, not kept (read it with the symbol lists)");
    public required ModuleSignature? Signature { get; init; }

    /// <summary>Why a signature trailer that is present could not be read (the module then counts as unsigned).</summary>
    public string? SignatureProblem { get; init; }

    /// <summary>
    /// Why the symbols, versions or struct module could not be read, when they could not: the
    /// module's .modinfo is still given (as kmod's modinfo gives it), its symbol lists are then empty.
    /// </summary>
    public string? SymbolProblem { get; init; }

    /// <summary>Every value of a .modinfo key, in file order (what "modinfo -F key" prints, but for the signature keys).</summary>
    public IEnumerable<string> GetValues(string key)
    {
        foreach (var e in ModInfo)
            if (e.Key == key)
                yield return e.Value;
    }

    /// <summary>The first value of a .modinfo key, or null.</summary>
    public string? GetValue(string key)
    {
        foreach (var e in ModInfo)
            if (e.Key == key)
                return e.Value;
        return null;
    }

    /// <summary>Parameters merged from "parm" and "parmtype" entries, in the order kmod's modinfo prints them.</summary>
    public IReadOnlyList<ModuleParameterInfo> Parameters => ModuleParameterInfo.FromModinfo(ModInfo);

    /// <summary>
    /// The key/value pairs kmod's modinfo lists for this file, in its order: the .modinfo strings,
    /// then the signature fields when the module is signed. "parm"/"parmtype" stay raw here.
    /// </summary>
    public IEnumerable<ModInfoEntry> ModinfoFields()
    {
        foreach (var e in ModInfo)
            yield return e;
        if (Signature is null)
            yield break;
        // kmod_module_get_info appends these after .modinfo, each only when it has a value.
        yield return new ModInfoEntry("sig_id", Signature.SignatureId);
        if (Signature.Signer is not null)
            yield return new ModInfoEntry("signer", Signature.Signer);
        if (Signature.KeyId.Length > 0)
            yield return new ModInfoEntry("sig_key", Signature.FormatKeyId());
        if (!string.IsNullOrEmpty(Signature.HashAlgorithm))
            yield return new ModInfoEntry("sig_hashalgo", Signature.HashAlgorithm);
        if (Signature.Signature.Length > 0)
            yield return new ModInfoEntry("signature", Signature.FormatSignature());
    }

    /// <summary>The kernel release the module was built for: vermagic's first word ("6.1.0-57-amd64"); null without a vermagic.</summary>
    public string? KernelVersion => GetValue("vermagic")?.Split(' ', 2)[0] is { Length: > 0 } v ? v : null;

    public override string ToString() => Path;
}
