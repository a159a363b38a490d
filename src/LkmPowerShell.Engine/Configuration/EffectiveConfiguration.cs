using System.Text;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Configuration;

/// <summary>
/// The configuration <c>modprobe -c</c> shows, as entries that know where they came from and
/// whether they count. Built from the one modprobe.d parser (<see cref="ModprobeConfig"/>), so what
/// is shown is what the planner uses. The order is show_config's (tools/modprobe.c): blacklist,
/// install, remove, alias, options, softdep, then weakdep (kmod 33+), each in the order read
/// (files by base name, lines in order, the kernel command line last).
/// </summary>
public static class EffectiveConfiguration
{
    /// <summary>
    /// The entries of <paramref name="config"/>; with <paramref name="includeMasked"/> also those of
    /// files kmod skips because a file of the same name comes first (never in effect).
    /// </summary>
    public static IReadOnlyList<ConfigurationEntry> Entries(ModprobeConfig config, bool includeMasked = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        var read = MarkOverrides(EntriesOf(config));
        if (!includeMasked || config.MaskedFiles.Count == 0) return read;
        var masked = new List<ConfigurationEntry>();
        foreach (var file in config.MaskedFiles)
        {
            var reason = $"not read: {file.MaskedBy} has the same name and comes first in the search path";
            masked.AddRange(EntriesOf(ModprobeConfig.LoadFrom([file.Path]))
                .Select(e => e with { InEffect = false, OverriddenBy = file.MaskedBy, Reason = reason, Masked = true }));
        }
        // Stable: within a kind, the entries kmod reads come first, then the masked ones.
        return [.. read.Concat(masked).OrderBy(e => e.Kind)];
    }

    /// <summary>
    /// What <c>modprobe -c</c> prints, byte for byte: the configuration lines (masked files left
    /// out), the end marker, then the tree's alias and symbol indexes as kmod dumps them (when a
    /// tree is given). Weakdep lines are printed as kmod 33+ prints them; kmod 30 does not know them.
    /// </summary>
    public static byte[] ToModprobeBytes(IEnumerable<ConfigurationEntry> entries, ModuleDirectory? tree = null)
    {
        var text = new StringBuilder();
        foreach (var e in entries)
            if (!e.Masked) text.Append(e.ToModprobeLine()).Append('\n');
        text.Append("\n# End of configuration files. Dumping indexes now:\n\n");
        if (tree is not null)
            foreach (var index in new[] { ModulesAliasFile.FileName + ".bin", ModulesSymbolsFile.FileName + ".bin" })
                foreach (var entry in DumpIndex(Path.Join(tree.Path, index), tree.Root))
                    text.Append("alias ").Append(ByteText.FromText(entry.Key)).Append(' ').Append(ByteText.FromText(entry.Value)).Append('\n');
        return ByteText.ToBytes(text.ToString());
    }

    /// <summary>
    /// <see cref="ToModprobeBytes"/> as text for people: read as UTF-8 when it is UTF-8 (real
    /// configuration is), so written out as UTF-8 it is byte for byte what <c>modprobe -c</c>
    /// prints; a line whose bytes are not UTF-8 shows one character per byte (<see cref="ByteText.ToText"/>).
    /// </summary>
    public static string ToModprobeText(IEnumerable<ConfigurationEntry> entries, ModuleDirectory? tree = null)
    {
        var bytes = ByteText.FromBytes(ToModprobeBytes(entries, tree));
        if (ByteText.IsUtf8(bytes)) return ByteText.ToText(bytes);
        return string.Join('\n', bytes.Split('\n').Select(ByteText.ToText));
    }

    /// <summary>The index's entries, read inside the root as every other tree file is (never through a link out of it).</summary>
    private static IEnumerable<IndexEntry> DumpIndex(string path, SystemRoot root)
    {
        try
        {
            return IndexFile.Open(path, root.Within(path)).Enumerate();
        }
        catch (FileNotFoundException)
        {
            return []; // kmod prints nothing for a missing index
        }
    }

    private static List<ConfigurationEntry> EntriesOf(ModprobeConfig config)
    {
        var list = new List<ConfigurationEntry>();
        foreach (var b in config.Blacklist) list.Add(Entry(ConfigurationKind.Blacklist, b.Module, null, b.Source));
        foreach (var c in config.InstallCommands) list.Add(Entry(ConfigurationKind.Install, c.ModulePattern, c.Command, c.Source));
        foreach (var c in config.RemoveCommands) list.Add(Entry(ConfigurationKind.Remove, c.ModulePattern, c.Command, c.Source));
        foreach (var a in config.Aliases) list.Add(Entry(ConfigurationKind.Alias, a.Pattern, a.Module, a.Source));
        foreach (var o in config.Options) list.Add(Entry(ConfigurationKind.Options, o.Module, o.Options, o.Source));
        foreach (var s in config.SoftDependencies) list.Add(Entry(ConfigurationKind.SoftDependency, s.ModulePattern, SoftdepText(s), s.Source));
        foreach (var w in config.WeakDependencies) list.Add(Entry(ConfigurationKind.WeakDependency, w.ModulePattern, string.Join(' ', w.Modules), w.Source));
        return list;
    }

    private static ConfigurationEntry Entry(ConfigurationKind kind, string module, string? value, ConfigLocation at)
    {
        var origin = at.File == ConfigLocation.KernelCommandLine ? ConfigurationOrigin.KernelCommandLine
            : Path.GetFileName(at.File) == ModulesSoftdepFile.FileName ? ConfigurationOrigin.ModuleTree
            : ConfigurationOrigin.ModprobeDirectory;
        return new ConfigurationEntry(kind, module, value, at.File, at.Line, origin);
    }

    /// <summary>
    /// kmod's softdep_to_char, faithfully: "pre: a b" then "post: c" with no blank between the two
    /// parts ("pre: apost: c"), because that is what <c>modprobe -c</c> prints.
    /// </summary>
    private static string SoftdepText(ConfigSoftDependency s)
    {
        var text = new StringBuilder();
        if (s.Pre.Count > 0) text.Append("pre: ").AppendJoin(' ', s.Pre);
        if (s.Post.Count > 0) text.Append("post: ").AppendJoin(' ', s.Post);
        return text.ToString();
    }

    /// <summary>
    /// Install and remove: kmod runs the first command whose pattern matches, so a later entry with
    /// the same pattern never runs. Options: the kernel keeps the last value of a parameter, so an
    /// entry all of whose parameters are given again later for the same module changes nothing.
    /// </summary>
    private static List<ConfigurationEntry> MarkOverrides(List<ConfigurationEntry> entries)
    {
        var firstCommand = new Dictionary<(ConfigurationKind, string), ConfigurationEntry>();
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Kind is ConfigurationKind.Install or ConfigurationKind.Remove)
            {
                if (firstCommand.TryGetValue((e.Kind, e.Module), out var winner))
                    entries[i] = e with
                    {
                        InEffect = false,
                        OverriddenBy = winner.Location,
                        Reason = $"kmod runs the first {e.Keyword} command for {e.Module}, the one at {winner.Location}",
                    };
                else
                    firstCommand[(e.Kind, e.Module)] = e;
            }
            else if (e.Kind == ConfigurationKind.Options && ParameterNames(e.Value) is { Count: > 0 } names)
            {
                ConfigurationEntry? last = null;
                foreach (var later in entries.Skip(i + 1))
                {
                    if (later.Kind != ConfigurationKind.Options || later.Module != e.Module) continue;
                    if (ParameterNames(later.Value) is { } laterNames && names.RemoveWhere(laterNames.Contains) > 0)
                        last = later;
                }
                if (names.Count == 0 && last is not null)
                    entries[i] = e with
                    {
                        InEffect = false,
                        OverriddenBy = last.Location,
                        Reason = "every parameter it sets is set again later, and the kernel keeps the last value",
                    };
            }
        }
        return entries;
    }

    /// <summary>The parameter names of an options string, "-" and "_" alike as the kernel compares them; null when it does not parse.</summary>
    private static HashSet<string>? ParameterNames(string? options)
    {
        if (options is null) return null;
        try
        {
            return [.. ModuleParameters.Parse(options).Select(p => ModuleParameters.NormalizeName(p.Name))];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
