using System.Text;

namespace LkmPowerShell.Engine.Planner;

/// <summary>What persisting (or un-persisting) did to one file.</summary>
public enum PersistChange { Written, Unchanged, Deleted, Absent, LeftAlone }

/// <summary>One file touched (or deliberately not touched) by <see cref="ModulePersistence"/>.</summary>
public sealed record PersistedFile(string Path, PersistChange Change, string? Reason = null)
{
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
    public IReadOnlyList<PersistedFile> Persist(string module, IEnumerable<ModuleParameter>? parameters = null)
    {
        var name = ModuleName.Normalize(CheckedName(module));
        var result = new List<PersistedFile> { WriteOwned(name, ModulesLoadFile(name), $"{Header}\n{name}\n") };
        var options = ModuleParameters.Format(parameters);
        result.Add(options is null
            ? DeleteOwned(OptionsFile(name))
            : WriteOwned(name, OptionsFile(name), $"{Header}\noptions {name} {options}\n"));
        return result;
    }

    /// <summary>Removes the boot-time files this module got from <see cref="Persist"/>; files not written by us are left alone and reported.</summary>
    public IReadOnlyList<PersistedFile> Unpersist(string module)
    {
        var name = ModuleName.Normalize(CheckedName(module));
        return [DeleteOwned(ModulesLoadFile(name)), DeleteOwned(OptionsFile(name))];
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

    private static PersistedFile WriteOwned(string module, string path, string content)
    {
        if (File.Exists(path))
        {
            if (!IsOurs(path)) throw new PersistenceConflictException(module, path);
            if (File.ReadAllText(path) == content) return new PersistedFile(path, PersistChange.Unchanged);
        }
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Join(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var bytes = Encoding.UTF8.GetBytes(content);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true); // the rename must not publish an empty file after a crash
            }
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return new PersistedFile(path, PersistChange.Written);
    }

    private static PersistedFile DeleteOwned(string path)
    {
        if (!File.Exists(path)) return new PersistedFile(path, PersistChange.Absent);
        if (!IsOurs(path)) return new PersistedFile(path, PersistChange.LeftAlone, "not written by LkmPowerShell");
        File.Delete(path);
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
