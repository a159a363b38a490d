using System.Text;
using LkmPowerShell.Engine.Files;

namespace LkmPowerShell.Engine.Planner;

/// <summary>What persisting (or un-persisting) did to one file.</summary>
public enum PersistChange { Written, Unchanged, Deleted, Absent, LeftAlone }

/// <summary>One file touched (or deliberately not touched) by <see cref="ModulePersistence"/>.</summary>
public sealed record PersistedFile(string Path, PersistChange Change, string? Reason = null)
{
    /// <summary>Whether the file is different afterwards (written or deleted).</summary>
    public bool Changed => Change is PersistChange.Written or PersistChange.Deleted;

    public override string ToString() => $"{Change} {Path}{(Reason is null ? "" : " (" + Reason + ")")}";
}

/// <summary>
/// Boot-time loading, as files under a <see cref="SystemRoot"/>: /etc/modules-load.d/&lt;name&gt;.conf
/// (systemd-modules-load reads one module name a line) and, for parameters,
/// /etc/modprobe.d/&lt;name&gt;.conf (<c>options NAME k=v ...</c>). Each file starts with a header
/// saying LkmPowerShell wrote it (the front end words the rest of that line); only files whose
/// first line starts with <see cref="OwnerMark"/> are ever replaced or deleted. Writes are
/// atomic (a temporary file in the same folder, flushed, renamed over the target) and idempotent
/// (an identical file is not rewritten).
/// </summary>
public sealed class ModulePersistence(SystemRoot root, string header = ModulePersistence.DefaultHeader)
{
    /// <summary>How every header starts: what marks a file as ours.</summary>
    public const string OwnerMark = "# Written by LkmPowerShell";

    public const string DefaultHeader = OwnerMark + "; deleting the persisted settings deletes it.";

    /// <summary>The first line of every file written.</summary>
    public string Header { get; } = header.StartsWith(OwnerMark, StringComparison.Ordinal) && !header.Contains('\n')
        ? header
        : throw new ArgumentException($"A persistence header starts with '{OwnerMark}' and is one line.", nameof(header));
    public const string ModulesLoadDirectory = "/etc/modules-load.d";
    public const string ModprobeDirectory = "/etc/modprobe.d";

    public SystemRoot Root { get; } = root ?? throw new ArgumentNullException(nameof(root));

    public string ModulesLoadFile(string module) => Root.Resolve($"{ModulesLoadDirectory}/{CheckedName(module)}.conf");
    public string OptionsFile(string module) => Root.Resolve($"{ModprobeDirectory}/{CheckedName(module)}.conf");

    /// <summary>
    /// Makes <paramref name="module"/> load at boot with <paramref name="parameters"/>. With no
    /// parameters an options file written earlier by us is removed, so the files always say what
    /// the last call asked for.
    /// </summary>
    /// <exception cref="PersistenceConflictException">A file of that name exists and is not ours.</exception>
    public IReadOnlyList<PersistedFile> Persist(string module, IEnumerable<ModuleParameter>? parameters = null) =>
        PersistCore(module, parameters, dryRun: false);

    /// <summary>
    /// What <see cref="Persist"/> would do to each file, without touching any: the exact paths to
    /// show before asking, and whether anything would change at all.
    /// </summary>
    /// <exception cref="PersistenceConflictException">A file of that name exists and is not ours.</exception>
    public IReadOnlyList<PersistedFile> PreviewPersist(string module, IEnumerable<ModuleParameter>? parameters = null) =>
        PersistCore(module, parameters, dryRun: true);

    /// <summary>Removes the boot-time files this module got from <see cref="Persist"/>; files not written by us are left alone and reported.</summary>
    public IReadOnlyList<PersistedFile> Unpersist(string module) => UnpersistCore(module, dryRun: false);

    /// <summary>What <see cref="Unpersist"/> would do to each file, without touching any.</summary>
    public IReadOnlyList<PersistedFile> PreviewUnpersist(string module) => UnpersistCore(module, dryRun: true);

    private List<PersistedFile> PersistCore(string module, IEnumerable<ModuleParameter>? parameters, bool dryRun)
    {
        var name = ModuleName.Normalize(CheckedName(module));
        var file = $"{name}.conf";
        var result = new List<PersistedFile> { WriteOwned(name, ModulesLoadDirectory, file, $"{Header}\n{name}\n", dryRun) };
        var options = ModuleParameters.Format(parameters);
        result.Add(options is null
            ? DeleteOwned(ModprobeDirectory, file, dryRun)
            : WriteOwned(name, ModprobeDirectory, file, $"{Header}\noptions {name} {options}\n", dryRun));
        return result;
    }

    private List<PersistedFile> UnpersistCore(string module, bool dryRun)
    {
        var file = $"{ModuleName.Normalize(CheckedName(module))}.conf";
        return [DeleteOwned(ModulesLoadDirectory, file, dryRun), DeleteOwned(ModprobeDirectory, file, dryRun)];
    }

    /// <summary>Whether a file's content starts with <see cref="OwnerMark"/>.</summary>
    private static bool IsOurs(byte[] content) =>
        content.AsSpan().StartsWith(Encoding.UTF8.GetBytes(OwnerMark));

    /// <summary>
    /// The file's content, or null when there is none. Read in the folder held open: never through
    /// a link, never a FIFO or device, at most a configuration file's limit; anything else in its
    /// place is refused with an IOException naming the file.
    /// </summary>
    private static byte[]? ReadExisting(ContainedFolder folder, string file) =>
        folder.ReadFile(file, Files.FileLimits.ConfigurationFile);

    /// <remarks>
    /// Each file is changed under its folder's lock (the one Disable- and Enable-KernelModule take),
    /// read again under it; a preview only reads, and creates no folder.
    /// </remarks>
    private PersistedFile WriteOwned(string module, string systemFolder, string file, string content, bool dryRun)
    {
        var path = Root.Resolve($"{systemFolder}/{file}");
        using var folder = dryRun ? ContainedFolder.Open(Root, systemFolder) : ContainedFolder.OpenOrCreate(Root, systemFolder);
        if (folder is null)
            return new PersistedFile(path, PersistChange.Written);
        using var held = dryRun ? null : folder.Lock(Configuration.ModuleDisabler.LockTimeout, Configuration.ModuleDisabler.Busy);
        if (!dryRun) folder.RemoveTemporaries();
        var bytes = Encoding.UTF8.GetBytes(content);
        if (ReadExisting(folder, file) is { } existing)
        {
            if (!IsOurs(existing)) throw new PersistenceConflictException(module, path);
            if (existing.AsSpan().SequenceEqual(bytes)) return new PersistedFile(path, PersistChange.Unchanged);
        }
        if (!dryRun) folder.WriteAtomic(file, bytes);
        return new PersistedFile(path, PersistChange.Written);
    }

    private PersistedFile DeleteOwned(string systemFolder, string file, bool dryRun)
    {
        var path = Root.Resolve($"{systemFolder}/{file}");
        using var folder = ContainedFolder.Open(Root, systemFolder);
        if (folder is null)
            return new PersistedFile(path, PersistChange.Absent);
        using var held = dryRun ? null : folder.Lock(Configuration.ModuleDisabler.LockTimeout, Configuration.ModuleDisabler.Busy);
        if (!dryRun) folder.RemoveTemporaries();
        if (ReadExisting(folder, file) is not { } existing) return new PersistedFile(path, PersistChange.Absent);
        if (!IsOurs(existing)) return new PersistedFile(path, PersistChange.LeftAlone, "not written by LkmPowerShell");
        if (!dryRun) folder.Delete(file);
        return new PersistedFile(path, PersistChange.Deleted);
    }

    /// <summary>The module name becomes a file name: only plain names (letters, digits, "_", "-").</summary>
    private static string CheckedName(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!ModuleName.IsPlainModuleName(module))
            throw new InvalidModuleNameException(module, "only letters, digits, '_' and '-' can be persisted, because the name becomes a file name");
        return module;
    }
}
