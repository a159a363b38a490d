namespace LkmPowerShell.Engine;

/// <summary>
/// Every path the engine reads goes through one root, like <c>depmod -b</c> and
/// <c>modprobe -d</c>: "/" for the running system, a folder for an offline image or a test fixture.
/// </summary>
public sealed class SystemRoot
{
    public static SystemRoot Host { get; } = new("/");

    public SystemRoot(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The root folder, absolute.</summary>
    public string Path { get; }

    public bool IsHost => Path == "/";

    /// <summary>Maps an absolute system path such as "/proc/modules" under the root.</summary>
    public string Resolve(string systemPath)
    {
        if (!systemPath.StartsWith('/'))
            throw new ArgumentException($"'{systemPath}' is not an absolute system path.", nameof(systemPath));
        return IsHost ? systemPath : System.IO.Path.Join(Path, systemPath);
    }

    /// <summary>
    /// A folder to list (modprobe.d, depmod.d, modules-load.d), mapped under the root with its
    /// symbolic links resolved inside the root, as if chrooted: a planted
    /// <c>ROOT/etc/modprobe.d -> /etc/modprobe.d</c> lists ROOT's own /etc/modprobe.d (or nothing),
    /// never the host's. Files found there are still opened through <see cref="Files.SafeFile"/>.
    /// </summary>
    public string ResolveFolder(string systemPath)
    {
        var mapped = Resolve(systemPath);
        return IsHost ? mapped : Files.SafeFile.ResolveInsideRoot(Path, Files.SafeFile.InnerPath(this, mapped), mapped);
    }

    /// <summary>
    /// A path from a file under this root, kept lexically inside it: an absolute path is taken as
    /// the image's own, "." and ".." are resolved with ".." stopping at the root. Symbolic links
    /// are not resolved here; opening through <see cref="Files.SafeFile"/> contains them.
    /// For the host root the path is returned as it is.
    /// </summary>
    public string Contain(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (IsHost) return path;
        var inner = Files.SafeFile.InnerPath(this, path);
        var parts = new List<string>();
        foreach (var part in inner.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(part);
        }
        return parts.Count == 0 ? Path : System.IO.Path.Join(Path, string.Join('/', parts));
    }

    /// <summary>
    /// This root when <paramref name="path"/> lies under it (so opening it must stay inside), null
    /// for the host or for a path elsewhere (one the user named, which is theirs to trust).
    /// </summary>
    public SystemRoot? Within(string path) =>
        !IsHost && path.StartsWith(Path.TrimEnd('/') + "/", StringComparison.Ordinal) ? this : null;

    /// <summary>/lib/modules/&lt;version&gt; under the root.</summary>
    public string ModulesDirectory(string kernelVersion) => Resolve("/lib/modules/" + kernelVersion);

    public override string ToString() => Path;
}
