using System.Text;
using LkmPowerShell.Engine.Files;
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

    /// <summary>
    /// The install commands a site can choose. CIS writes /bin/false (a load then fails loudly);
    /// Lynis 3.0.x counts a protocol module (dccp, sctp, rds, tipc) as disabled only when its
    /// install line says /bin/true, so a site scored by Lynis can write that instead. Both load nothing.
    /// </summary>
    public static readonly IReadOnlyList<string> InstallCommands = [NoOpCommand, "/bin/true"];

    /// <summary>How long a run waits for another one changing the folder (each holds it for milliseconds).</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The lock's busy message: every writer of the project's files in a folder takes the same lock.</summary>
    internal const string Busy = "Another run of LkmPowerShell is changing its files in this folder";

    public ModuleDisabler(SystemRoot root)
    {
        Root = root ?? throw new ArgumentNullException(nameof(root));
        FilePath = root.Resolve($"{Directory}/{FileName}");
        FolderPath = root.Resolve(Directory);
    }

    public SystemRoot Root { get; }

    /// <summary>The project's file, under the root, as the user knows it (links in it are resolved inside the root when it is opened).</summary>
    public string FilePath { get; }

    /// <summary>The folder written, under the root: what a remedy names.</summary>
    public string FolderPath { get; }

    /// <summary>The modules this file disables, in file order (the names of its install lines); empty when the file is not ours.</summary>
    /// <exception cref="IOException">The file cannot be read: a link, FIFO or device in its place, too big.</exception>
    public IReadOnlyList<string> DisabledModules()
    {
        using var folder = ContainedFolder.Open(Root, Directory);
        return folder is null ? [] : ReadOwnModules(folder)?.Select(e => e.Module).ToList() ?? [];
    }

    /// <summary>The install command the project's file writes for the module; null when the file does not disable it.</summary>
    /// <exception cref="IOException">The file cannot be read: a link, FIFO or device in its place, too big.</exception>
    public string? OwnInstallCommand(string module)
    {
        var name = ModuleName.Normalize(module);
        using var folder = ContainedFolder.Open(Root, Directory);
        return folder is null ? null : ReadOwnModules(folder)?.Where(e => e.Module == name).Select(e => e.Command).FirstOrDefault();
    }

    /// <summary>Adds the module's two lines to the file, unless the file or another one already disables it.</summary>
    /// <param name="module">The module.</param>
    /// <param name="installCommand">One of <see cref="InstallCommands"/> (null: <see cref="NoOpCommand"/>). A module already in the file with the other one gets its line rewritten.</param>
    /// <exception cref="InvalidModuleNameException">Not a plain module name.</exception>
    /// <exception cref="ArgumentException">An install command other than <see cref="InstallCommands"/>.</exception>
    /// <exception cref="IOException">The file exists and was not written by this class, or cannot be read or written.</exception>
    /// <exception cref="TimeoutException">Another run held the folder's lock for <see cref="LockTimeout"/>.</exception>
    public ModuleDisableStatus Disable(string module, string? installCommand = null)
    {
        var name = CheckedName(module);
        var command = installCommand ?? NoOpCommand;
        if (!InstallCommands.Contains(command))
            throw new ArgumentException($"'{command}' is not an install command Disable writes: use {string.Join(" or ", InstallCommands)}.", nameof(installCommand));
        var existing = ContainedFolder.Open(Root, Directory);
        if (existing is null)
        {
            // No folder: nothing of ours to read; create it only when there is something to write.
            var before = Status(name, DisableChange.Unchanged, null);
            if (before.Compliant)
                return before with { Change = DisableChange.DisabledElsewhere, Note = $"already disabled by {before.DisabledBy} and blacklisted by {before.BlacklistedBy}; nothing written" };
        }
        using var folder = existing ?? ContainedFolder.OpenOrCreate(Root, Directory);
        ModuleDisableStatus after;
        // The whole read-modify-write under the folder's lock, read again under it: a concurrent
        // Disable or Enable of another module is never lost.
        using (folder.Lock(LockTimeout, Busy))
        {
            folder.RemoveTemporaries();
            var own = ReadOwnModules(folder) ?? throw NotOurs();
            var mine = own.FindIndex(e => e.Module == name);
            if (mine >= 0 && own[mine].Command == command)
                return Status(name, DisableChange.Unchanged, null);
            if (mine >= 0)
            {
                own[mine] = (name, command);
            }
            else
            {
                var before = Status(name, DisableChange.Unchanged, null);
                if (before.Compliant)
                    return before with { Change = DisableChange.DisabledElsewhere, Note = $"already disabled by {before.DisabledBy} and blacklisted by {before.BlacklistedBy}; nothing written" };
                own.Add((name, command));
            }
            folder.WriteAtomic(FileName, Encoding.UTF8.GetBytes(Render(own)));
            after = Status(name, DisableChange.Written, null);
        }
        if (after.Disabled) return after;
        var first = ModprobeConfig.Load(Root).InstallCommandFor(name)?.Source;
        return after with { Note = $"the install command at {first} comes first and kmod runs only the first one: remove it, or the module still loads" };
    }

    /// <summary>Removes the module's lines from the file (deleting the file when it has no module left).</summary>
    /// <exception cref="InvalidModuleNameException">Not a plain module name.</exception>
    /// <exception cref="IOException">The file exists and was not written by this class, or cannot be read or written.</exception>
    /// <exception cref="TimeoutException">Another run held the folder's lock for <see cref="LockTimeout"/>.</exception>
    public ModuleDisableStatus Enable(string module)
    {
        var name = CheckedName(module);
        var change = DisableChange.Unchanged;
        using (var folder = ContainedFolder.Open(Root, Directory))
        {
            if (folder is not null)
            {
                using var held = folder.Lock(LockTimeout, Busy);
                folder.RemoveTemporaries();
                var own = ReadOwnModules(folder) ?? throw NotOurs();
                if (own.RemoveAll(e => e.Module == name) > 0)
                {
                    if (own.Count == 0)
                    {
                        folder.Delete(FileName);
                        change = DisableChange.Deleted;
                    }
                    else
                    {
                        folder.WriteAtomic(FileName, Encoding.UTF8.GetBytes(Render(own)));
                        change = DisableChange.Written;
                    }
                }
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

    /// <summary>The file's content for these modules, each with <see cref="NoOpCommand"/>.</summary>
    public static string Render(IEnumerable<string> modules) => Render(modules.Select(m => (m, NoOpCommand)));

    /// <summary>The file's content for these modules, each with its install command.</summary>
    public static string Render(IEnumerable<(string Module, string Command)> modules)
    {
        var text = new StringBuilder(Header);
        foreach (var (m, command) in modules)
            text.Append($"install {m} {command}\nblacklist {m}\n");
        return text.ToString();
    }

    /// <summary>The modules of the file with their install commands (empty when there is none), or null when the file is not ours.</summary>
    /// <remarks>Read in the folder held open: never through a link, never a FIFO or device, at most a configuration file's limit.</remarks>
    private static List<(string Module, string Command)>? ReadOwnModules(ContainedFolder folder)
    {
        if (folder.ReadFile(FileName, FileLimits.ConfigurationFile) is not { } bytes) return [];
        var text = Encoding.UTF8.GetString(bytes);
        if (!text.StartsWith(Header, StringComparison.Ordinal)) return null;
        var modules = new List<(string Module, string Command)>();
        foreach (var line in text[Header.Length..].Split('\n'))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 3 && words[0] == "install" && InstallCommands.Contains(words[2]) && !modules.Exists(e => e.Module == words[1]))
                modules.Add((words[1], words[2]));
        }
        return modules;
    }

    private IOException NotOurs() => new(
        $"{FilePath} exists but was not written by LkmPowerShell (its first line is not the project's header); it was left alone. Move it away, or merge its lines into a file of your own.");

    private static string CheckedName(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!ModuleName.IsPlainModuleName(module))
            throw new InvalidModuleNameException(module, "only letters, digits, '_' and '-' can be disabled, because the name is written into modprobe.d");
        return ModuleName.Normalize(module);
    }
}
