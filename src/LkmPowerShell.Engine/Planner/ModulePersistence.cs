using System.Text;

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
        var result = new List<PersistedFile> { WriteOwned(name, ModulesLoadFile(name), $"{Header}\n{name}\n", dryRun) };
        var options = ModuleParameters.Format(parameters);
        result.Add(options is null
            ? DeleteOwned(OptionsFile(name), dryRun)
            : WriteOwned(name, OptionsFile(name), $"{Header}\noptions {name} {options}\n", dryRun));
        return result;
    }

    private List<PersistedFile> UnpersistCore(string module, bool dryRun)
    {
        var name = ModuleName.Normalize(CheckedName(module));
        return [DeleteOwned(ModulesLoadFile(name), dryRun), DeleteOwned(OptionsFile(name), dryRun)];
    }

    /// <summary>Whether <paramref name="path"/> exists and its first line starts with <see cref="OwnerMark"/>.</summary>
    public static bool IsOurs(string path)
    {
        try
        {
            using var reader = new StreamReader(path, Encoding.UTF8);
            var first = new char[OwnerMark.Length];
            var n = reader.ReadBlock(first, 0, first.Length);
            return n == OwnerMark.Length && new string(first) == OwnerMark;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static PersistedFile WriteOwned(string module, string path, string content, bool dryRun)
    {
        if (File.Exists(path))
        {
            if (!IsOurs(path)) throw new PersistenceConflictException(module, path);
            if (File.ReadAllText(path) == content) return new PersistedFile(path, PersistChange.Unchanged);
        }
        if (!dryRun) AtomicFile.Write(path, content);
        return new PersistedFile(path, PersistChange.Written);
    }

    private static PersistedFile DeleteOwned(string path, bool dryRun)
    {
        if (!File.Exists(path)) return new PersistedFile(path, PersistChange.Absent);
        if (!IsOurs(path)) return new PersistedFile(path, PersistChange.LeftAlone, "not written by LkmPowerShell");
        if (!dryRun) File.Delete(path);
        return new PersistedFile(path, PersistChange.Deleted);
    }

    /// <summary>The module name becomes a file name: only plain names (letters, digits, "_", "-").</summary>
    private static string CheckedName(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!ModuleNames.IsPlainModuleName(module))
            throw new InvalidModuleNameException(module, "only letters, digits, '_' and '-' can be persisted, because the name becomes a file name");
        return module;
    }
}
