using LkmPowerShell.Engine.Files;

namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// What depmod's files already say about each installed module, so that a listing can answer a
/// filter without opening (and decompressing) the module: its aliases (modules.alias), its soft
/// dependencies (modules.softdep) and the modules modprobe loads before it (modules.dep). Each
/// file is read once, when a module's fact is first asked for, and serves every module of the tree.
/// </summary>
/// <remarks>
/// depmod copies aliases and soft dependencies from each module's .modinfo, so they are what
/// reading the file gives as long as the file has not been written since depmod ran:
/// <see cref="Covers"/> is depmod -A's test (no module newer than modules.dep). A file that turns
/// out damaged or absent answers null, and the caller reads the module instead.
/// </remarks>
public sealed class IndexedModuleFacts
{
    private readonly ModuleDirectory _directory;
    private readonly Lazy<DateTime?> _indexedAt;
    private readonly Lazy<ILookup<string, string>?> _aliases;
    private readonly Lazy<ILookup<string, string>?> _softDependencies;

    public IndexedModuleFacts(ModuleDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        _directory = directory;
        _indexedAt = new(ReadIndexTime);
        _aliases = new(() => Group(() => _directory.AliasesAsWritten()?.Select(a => (a.Module, a.Pattern))));
        _softDependencies = new(() => Group(() => ReadSoftDependencies()));
    }

    /// <summary>When depmod last wrote modules.dep.bin (else modules.dep); null when the tree is not indexed.</summary>
    public DateTime? IndexedAt => _indexedAt.Value;

    /// <summary>Whether a module file last written at <paramref name="lastWriteTimeUtc"/> is what depmod indexed.</summary>
    public bool Covers(DateTime lastWriteTimeUtc) => IndexedAt is { } indexed && lastWriteTimeUtc <= indexed;

    /// <summary>The module's alias patterns as it declares them, in its order; null when modules.alias is missing or unreadable.</summary>
    public IReadOnlyList<string>? Aliases(string module) => _aliases.Value is { } byModule ? [.. byModule[ModuleName.Normalize(module)]] : null;

    /// <summary>The module's softdep values as it declares them ("pre: a post: b"), one a line; null when modules.softdep is missing or unreadable.</summary>
    public IReadOnlyList<string>? SoftDependencies(string module) => _softDependencies.Value is { } byModule ? [.. byModule[ModuleName.Normalize(module)]] : null;

    /// <summary>
    /// The modules modprobe loads before this one, first loaded first: depmod's closure from
    /// modules.dep, read backwards. Null when the tree is not indexed or does not list the module.
    /// </summary>
    public IReadOnlyList<string>? RequiredModules(string module)
    {
        try
        {
            return _directory.DependencyNames(module) is { } names ? [.. names.Reverse()] : null;
        }
        catch (Exception e) when (e is ModuleFormatException or IOException or UnauthorizedAccessException)
        {
            return null; // the listing already reports a damaged index; this fact is then unknown
        }
    }

    private DateTime? ReadIndexTime()
    {
        foreach (var name in new[] { ModulesDepFile.FileName + ".bin", ModulesDepFile.FileName })
        {
            try
            {
                return SafeFile.ProbeStamp(System.IO.Path.Join(_directory.Path, name), FileLimits.BinaryIndex, _directory.Root).LastWriteTimeUtc;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // missing (or not a file): ask the next one
            }
        }
        return null;
    }

    private IEnumerable<(string Module, string Value)>? ReadSoftDependencies()
    {
        var path = System.IO.Path.Join(_directory.Path, ModulesSoftdepFile.FileName);
        try
        {
            return ModulesSoftdepFile.ReadValues(path, _directory.Root);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static ILookup<string, string>? Group(Func<IEnumerable<(string Module, string Value)>?> read)
    {
        try
        {
            return read()?.ToLookup(e => ModuleName.Normalize(e.Module), e => e.Value, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is ModuleFormatException or IOException or UnauthorizedAccessException)
        {
            return null; // damaged or unreadable: each module's file answers instead
        }
    }
}
