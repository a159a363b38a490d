namespace LkmPowerShell.Engine;

/// <summary>
/// The file seam: every path the engine reads or writes goes through one root, like <c>depmod -b</c>
/// and <c>modprobe -d</c>: "/" for the running system, a folder for an offline image or a test
/// fixture. The kernel's live state and its syscalls are the other seam, <see cref="Kernel.IKernel"/>.
/// </summary>
public sealed class SystemRoot
{
    /// <summary>Where kmod keeps the kernels' module trees unless built otherwise (meson's <c>moduledir</c>).</summary>
    public const string DefaultModuleDirectory = "/lib/modules";

    /// <summary>Where distributions that moved everything under /usr keep them (Debian 13's packages ship there).</summary>
    public const string UsrModuleDirectory = "/usr/lib/modules";

    public static SystemRoot Host { get; } = new("/");

    /// <param name="path">The root folder.</param>
    /// <param name="moduleDirectory">
    /// Like kmod 34's <c>depmod -m</c>: the folder of the kernels' module trees, always inside the
    /// root (a leading "/" is dropped, as kmod does). Null: /lib/modules, or /usr/lib/modules when
    /// only that exists under the root (see <see cref="ModuleDirectory"/>).
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="moduleDirectory"/> could name a folder outside the root.</exception>
    public SystemRoot(string path, string? moduleDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        if (moduleDirectory is not null)
        {
            if (ModuleDirectoryProblem(moduleDirectory) is { } problem)
                throw new ArgumentException($"'{moduleDirectory}' cannot be a module directory: {problem}.", nameof(moduleDirectory));
            ModuleDirectory = "/" + moduleDirectory.Trim('/');
            ModuleDirectoryGiven = true;
        }
        else
        {
            ModuleDirectory = DetectModuleDirectory();
        }
    }

    /// <summary>The root folder, absolute.</summary>
    public string Path { get; }

    /// <summary>
    /// The folder of the kernels' module trees, as a system path: the one asked for; else
    /// /lib/modules; else, when the root has no /lib/modules but has /usr/lib/modules, that one.
    /// kmod fixes this folder when it is built (only depmod 34+ takes <c>-m</c>), so an image whose
    /// kmod was built for /usr/lib/modules is read where its own kmod reads, and an unpacked package
    /// that ships its modules under usr/lib/modules (relying on the /lib symbolic link that merged-/usr
    /// systems have) is found without being told.
    /// </summary>
    public string ModuleDirectory { get; }

    /// <summary>Whether <see cref="ModuleDirectory"/> was asked for rather than found.</summary>
    public bool ModuleDirectoryGiven { get; }

    /// <summary>
    /// The folder of the kernels' module trees under the root (/lib/modules by default), its
    /// symbolic links resolved inside the root: an image's <c>lib -> /usr/lib</c> names the image's
    /// /usr/lib, never the host's.
    /// </summary>
    public string ModulesFolder => ResolveFolder(ModuleDirectory);

    /// <summary>
    /// Why a string cannot be a module directory, or null when it can: it must stay inside the root,
    /// so ".." is refused (kmod would follow it out of the base directory); empty and NUL are refused.
    /// </summary>
    public static string? ModuleDirectoryProblem(string? moduleDirectory) => moduleDirectory switch
    {
        null => "it is empty",
        _ when moduleDirectory.Trim('/').Length == 0 => "it names the root itself, not a folder in it",
        _ when moduleDirectory.Contains('\0') => "it contains a NUL character",
        _ when moduleDirectory.Split('/').Contains("..") => "it contains '..'; it is always a folder inside the root",
        _ => null,
    };

    private string DetectModuleDirectory()
    {
        try
        {
            if (Directory.Exists(ResolveFolder(DefaultModuleDirectory)) || !Directory.Exists(ResolveFolder(UsrModuleDirectory)))
                return DefaultModuleDirectory;
            return UsrModuleDirectory;
        }
        catch (IOException)
        {
            return DefaultModuleDirectory; // a link loop: opening the tree reports it where it happens
        }
    }

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

    /// <summary>
    /// /lib/modules/&lt;version&gt; under the root (or the <see cref="ModuleDirectory"/> in its
    /// place), its symbolic links resolved inside the root as <see cref="ResolveFolder"/> does.
    /// </summary>
    public string ModulesDirectory(string kernelVersion) => ResolveFolder(ModuleDirectory + "/" + kernelVersion);

    public override string ToString() => Path;
}
