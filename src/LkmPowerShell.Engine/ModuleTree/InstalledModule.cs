namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// A module file installed under /lib/modules/&lt;version&gt;.
/// </summary>
/// <param name="Name">kmod's normalised name ("fat", "snd_hda_intel").</param>
/// <param name="Path">The file to open: relative paths from modules.dep resolved against the
/// modules folder (under the root); absolute ones (depmod's <c>external</c> folders) kept as written.</param>
/// <param name="IndexPath">The path as modules.dep writes it, usually relative ("kernel/fs/fat/fat.ko").</param>
public sealed record InstalledModule(string Name, string Path, string IndexPath)
{
    public override string ToString() => Path;

    /// <summary>
    /// Under a root other than the host's, the path is kept inside it as if chrooted: an absolute
    /// path is the image's own, and ".." stops at the root (symbolic links are contained when the
    /// file is opened). Nothing a hostile modules.dep says can name a host file.
    /// </summary>
    /// <remarks>
    /// directoryContained: the caller checked that the modules directory is already what
    /// <see cref="SystemRoot.Contain"/> makes of it; a relative path with nothing to resolve (no
    /// "", "." or ".." component) then stays inside as it is, and is not contained again.
    /// </remarks>
    internal static InstalledModule FromIndexPath(string indexPath, string modulesDirectory, SystemRoot? within = null, bool directoryContained = false)
    {
        var joined = indexPath.StartsWith('/') ? indexPath : System.IO.Path.Join(modulesDirectory, indexPath);
        var path = within is null || within.IsHost || (directoryContained && IsPlainRelative(indexPath)) ? joined : within.Contain(joined);
        return new(ModuleName.FromPath(indexPath), path, indexPath);
    }

    /// <summary>Relative, and no component empty, "." or "..": depmod's own form ("kernel/fs/fat/fat.ko").</summary>
    internal static bool IsPlainRelative(string path)
    {
        if (path.Length == 0 || path[0] == '/' || path[^1] == '/')
            return false;
        var start = 0;
        while (start <= path.Length)
        {
            var slash = path.IndexOf('/', start);
            var end = slash < 0 ? path.Length : slash;
            var part = path.AsSpan(start, end - start);
            if (part.IsEmpty || part is "." or "..")
                return false;
            if (slash < 0)
                return true;
            start = slash + 1;
        }
        return true;
    }
}
