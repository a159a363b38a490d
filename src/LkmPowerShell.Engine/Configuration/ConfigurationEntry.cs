using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Configuration;

/// <summary>The commands of modprobe.d, in the order <c>modprobe -c</c> prints them.</summary>
public enum ConfigurationKind { Blacklist, Install, Remove, Alias, Options, SoftDependency, WeakDependency }

/// <summary>Where an entry was read: a modprobe.d file, the module tree's modules.softdep, or the kernel command line.</summary>
public enum ConfigurationOrigin { ModprobeDirectory, ModuleTree, KernelCommandLine }

/// <summary>
/// One line of the effective modprobe configuration, with where it came from and whether it
/// counts. <see cref="Module"/> is the key kmod prints (a module name or pattern; for an alias the
/// alias pattern); <see cref="Value"/> the rest (the alias's module, the options, the command).
/// </summary>
public sealed record ConfigurationEntry(ConfigurationKind Kind, string Module, string? Value, string File, int Line, ConfigurationOrigin Origin)
{
    /// <summary>
    /// False when the entry changes nothing: an install/remove command after an earlier one for the
    /// same pattern (kmod runs the first match), options whose every parameter is set again later
    /// (the kernel keeps the last value), or any entry of a file masked by a file of the same name.
    /// </summary>
    public bool InEffect { get; init; } = true;

    /// <summary>The entry or file that wins over this one ("file:line"), when <see cref="InEffect"/> is false.</summary>
    public string? OverriddenBy { get; init; }

    /// <summary>True for an entry of a file kmod does not read at all (masked by a file of the same name).</summary>
    public bool Masked { get; init; }

    /// <summary>Why the entry is not in effect, in words.</summary>
    public string? Reason { get; init; }

    /// <summary>
    /// An install command that does nothing and loads nothing (<c>/bin/false</c>, <c>/bin/true</c>):
    /// the CIS way of making a module impossible to load by modprobe.
    /// </summary>
    public bool DisablesLoading => Kind == ConfigurationKind.Install && Value is not null && IsNoOpCommand(Value);

    /// <summary>"file:line", or the file alone for the kernel command line.</summary>
    public string Location => Line > 0 ? $"{File}:{Line}" : File;

    /// <summary>The word kmod prints for <see cref="Kind"/>.</summary>
    public string Keyword => KeywordOf(Kind);

    /// <summary>Whether the entry concerns <paramref name="module"/>: its key matches (fnmatch), or, for an alias, it names the module.</summary>
    public bool Concerns(string module)
    {
        var name = ModuleName.Normalize(module);
        return FnMatch.IsMatch(Module, name) || Module == name || (Kind == ConfigurationKind.Alias && Value == name);
    }

    /// <summary>The line as <c>modprobe -c</c> prints it.</summary>
    public string ToModprobeLine() => Value is null ? $"{Keyword} {Module}" : $"{Keyword} {Module} {Value}";

    public override string ToString() => $"{ToModprobeLine()} ({Location})";

    public static string KeywordOf(ConfigurationKind kind) => kind switch
    {
        ConfigurationKind.Blacklist => "blacklist",
        ConfigurationKind.Install => "install",
        ConfigurationKind.Remove => "remove",
        ConfigurationKind.Alias => "alias",
        ConfigurationKind.Options => "options",
        ConfigurationKind.SoftDependency => "softdep",
        ConfigurationKind.WeakDependency => "weakdep",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary><c>/bin/false</c>, <c>/usr/bin/true</c>, <c>false</c> ..., alone on the line (trailing blanks allowed).</summary>
    public static bool IsNoOpCommand(string command)
    {
        var words = command.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 1 && words[0] is "/bin/false" or "/bin/true" or "/usr/bin/false" or "/usr/bin/true" or "false" or "true";
    }
}
