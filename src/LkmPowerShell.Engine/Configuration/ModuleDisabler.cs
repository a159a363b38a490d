using System.Text;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Configuration;

/// <summary>What disabling or enabling did to the project's file.</summary>
public enum DisableChange
{
    /// <summary>The file was written with the module's lines added or removed.</summary>
    Written,
    /// <summary>The file was deleted: the last module in it was enabled.</summary>
    Deleted,
    /// <summary>Nothing to do: the file already says so (or, enabling, never named the module).</summary>
    Unchanged,
    /// <summary>Nothing written: another file already disables and blacklists the module.</summary>
    DisabledElsewhere,
}

/// <summary>
/// Whether a module can be loaded by modprobe, and why not, after one disable or enable call.
/// Flat, so it stays useful as a property bag after remoting.
/// </summary>
public sealed record ModuleDisableStatus(
    string Module,
    DisableChange Change,
    bool Disabled,
    string? DisabledBy,
    bool Blacklisted,
    string? BlacklistedBy,
    bool? Loaded,
    string File,
    string? Note)
{
    /// <summary>Both halves of the CIS recommendation: an install command that loads nothing, and a blacklist entry.</summary>
    public bool Compliant => Disabled && Blacklisted;

    /// <summary>The module was removed from the kernel by this call (disabling with unloading).</summary>
    public bool Unloaded { get; init; }

    /// <summary>Whether this call changed anything: the file written or deleted, or the module unloaded (as Ansible's "changed").</summary>
    public bool Changed => Change is DisableChange.Written or DisableChange.Deleted || Unloaded;

    public override string ToString() => $"{Module}: {(Compliant ? "disabled" : Disabled ? "disabled, not blacklisted" : Blacklisted ? "blacklisted only" : "loadable")} ({Change})";
}

/// <summary>
/// Disables modules the way the CIS benchmarks ask (<c>install NAME /bin/false</c> and
/// <c>blacklist NAME</c>) in one file of the project's, <see cref="FileName"/> under
/// /etc/modprobe.d: the file is named to sort first, because kmod runs the first install command
/// that matches. Every write is atomic and idempotent; enabling removes only the lines this class
/// wrote, and says which other file still disables the module.
/// </summary>
public sealed class ModuleDisabler
{
    public const string Directory = "/etc/modprobe.d";
    public const string FileName = "00-lkmpowershell-disabled.conf";
    public const string Header =
        "# Written by LkmPowerShell: modules disabled the CIS way (install NAME /bin/false, blacklist NAME).\n" +
        "# Each pair below is managed by LkmPowerShell; other files in this directory are never changed.\n";
    public const string NoOpCommand = "/bin/false";

    public ModuleDisabler(SystemRoot root)
    {
        Root = root ?? throw new ArgumentNullException(nameof(root));
        FilePath = root.Resolve($"{Directory}/{FileName}");
    }

    public SystemRoot Root { get; }

    /// <summary>The project's file, under the root.</summary>
    public string FilePath { get; }

    /// <summary>The modules this file disables, in file order (the names of its install lines).</summary>
    public IReadOnlyList<string> DisabledModules() => ReadOwnModules() ?? [];

    /// <summary>Adds the module's two lines to the file, unless the file or another one already disables it.</summary>
    /// <exception cref="InvalidModuleNameException">Not a plain module name.</exception>
    /// <exception cref="IOException">The file exists and was not written by this class.</exception>
    public ModuleDisableStatus Disable(string module)
    {
        var name = CheckedName(module);
        var own = ReadOwnModules() ?? throw NotOurs();
        if (own.Contains(name))
            return Status(name, DisableChange.Unchanged, null);
        var before = Status(name, DisableChange.Unchanged, null);
        if (before.Compliant)
            return before with { Change = DisableChange.DisabledElsewhere, Note = $"already disabled by {before.DisabledBy} and blacklisted by {before.BlacklistedBy}; nothing written" };
        AtomicFile.Write(FilePath, Render([.. own, name]));
        var after = Status(name, DisableChange.Written, null);
        if (after.Disabled) return after;
        var first = ModprobeConfig.Load(Root).InstallCommandFor(name)?.Source;
        return after with { Note = $"the install command at {first} comes first and kmod runs only the first one: remove it, or the module still loads" };
    }

    /// <summary>Removes the module's lines from the file (deleting the file when it has no module left).</summary>
    /// <exception cref="InvalidModuleNameException">Not a plain module name.</exception>
    /// <exception cref="IOException">The file exists and was not written by this class.</exception>
    public ModuleDisableStatus Enable(string module)
    {
        var name = CheckedName(module);
        var own = ReadOwnModules() ?? throw NotOurs();
        var change = DisableChange.Unchanged;
        if (own.Remove(name))
        {
            if (own.Count == 0)
            {
                File.Delete(FilePath);
                change = DisableChange.Deleted;
            }
            else
            {
                AtomicFile.Write(FilePath, Render(own));
                change = DisableChange.Written;
            }
        }
        var after = Status(name, change, null);
        var still = new List<string>();
        if (after.Disabled) still.Add($"disabled by {after.DisabledBy}");
        if (after.Blacklisted) still.Add($"blacklisted by {after.BlacklistedBy}");
        return still.Count == 0 ? after : after with { Note = $"still {string.Join(" and ", still)}, a file LkmPowerShell did not write; edit that file to enable it" };
    }

    /// <summary>The module's state under the configuration as kmod reads it now (the kernel command line included).</summary>
    public ModuleDisableStatus Status(string module, DisableChange change = DisableChange.Unchanged, string? note = null)
    {
        var block = ModuleLoadBlock.Of(ModprobeConfig.Load(Root), module);
        bool? loaded = null;
        var kernel = new RunningKernel(Root);
        if (kernel.SupportsModules) loaded = kernel.GetLoadedModule(block.Module) is not null;
        return new ModuleDisableStatus(block.Module, change, block.Disabled, block.DisabledBy?.ToString(),
            block.Blacklisted, block.BlacklistedBy?.ToString(), loaded, FilePath, note);
    }

    /// <summary>The file's content for these modules.</summary>
    public static string Render(IEnumerable<string> modules)
    {
        var text = new StringBuilder(Header);
        foreach (var m in modules)
            text.Append($"install {m} {NoOpCommand}\nblacklist {m}\n");
        return text.ToString();
    }

    /// <summary>The modules of the file (empty when there is none), or null when the file is not ours.</summary>
    private List<string>? ReadOwnModules()
    {
        if (!File.Exists(FilePath)) return [];
        // Two lines a module: even every module of a kernel fits in far less than this.
        if (new FileInfo(FilePath).Length > ModprobeConfigParser.MaxFileBytes) return null;
        var text = File.ReadAllText(FilePath);
        if (!text.StartsWith(Header, StringComparison.Ordinal)) return null;
        var modules = new List<string>();
        foreach (var line in text[Header.Length..].Split('\n'))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 3 && words[0] == "install" && words[2] == NoOpCommand && !modules.Contains(words[1]))
                modules.Add(words[1]);
        }
        return modules;
    }

    private IOException NotOurs() => new(
        $"{FilePath} exists but was not written by LkmPowerShell (its first line is not the project's header); it was left alone. Move it away, or merge its lines into a file of your own.");

    private static string CheckedName(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!ModuleNames.IsPlainModuleName(module))
            throw new InvalidModuleNameException(module, "only letters, digits, '_' and '-' can be disabled, because the name is written into modprobe.d");
        return ModuleName.Normalize(module);
    }
}
