using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>A symbol a module needs, as kmod's dependency-symbol list gives it (CRC 0 when the module has none for it).</summary>
internal readonly record struct NeededSymbol(string Name, ulong Crc, bool IsWeak);

/// <summary>A symbol a module exports, with its modversions CRC (0 when it has none).</summary>
internal readonly record struct ProvidedSymbol(string Name, ulong Crc);

/// <summary>
/// Everything depmod takes from one module file, in kmod's order: exports, needed symbols, and
/// the alias/softdep/weakdep values of .modinfo. Small and immutable, so it can be cached.
/// <see cref="Problem"/> is set when the file could not be read; the module then has no facts,
/// which is how kmod treats it too (listed in modules.dep with no dependencies).
/// </summary>
internal sealed class ModuleFacts
{
    public ModuleFacts(ProvidedSymbol[] exports, NeededSymbol[] needs, string[] aliases, string[] softdeps, string[] weakdeps, string? problem)
    {
        Exports = exports;
        Needs = needs;
        Aliases = aliases;
        Softdeps = softdeps;
        Weakdeps = weakdeps;
        Problem = problem;
    }

    public ProvidedSymbol[] Exports { get; }
    public NeededSymbol[] Needs { get; }
    public string[] Aliases { get; }
    public string[] Softdeps { get; }
    public string[] Weakdeps { get; }
    public string? Problem { get; }

    public static ModuleFacts Unreadable(string problem) => new([], [], [], [], [], problem);

    public static ModuleFacts From(ModuleFileInfo info)
    {
        var exports = new ProvidedSymbol[info.Exports.Count];
        for (var i = 0; i < exports.Length; i++)
            exports[i] = new ProvidedSymbol(info.Exports[i].Name, info.Exports[i].Crc ?? 0);
        var needs = new NeededSymbol[info.RequiredSymbols.Count];
        for (var i = 0; i < needs.Length; i++)
        {
            var r = info.RequiredSymbols[i];
            needs[i] = new NeededSymbol(r.Name, r.Crc ?? 0, r.IsWeak);
        }
        List<string> aliases = [], softdeps = [], weakdeps = [];
        foreach (var e in info.ModInfo)
        {
            switch (e.Key)
            {
                case "alias": aliases.Add(e.Value); break;
                case "softdep": softdeps.Add(e.Value); break;
                case "weakdep": weakdeps.Add(e.Value); break;
            }
        }
        return new ModuleFacts(exports, needs, [.. aliases], [.. softdeps], [.. weakdeps], null);
    }
}
