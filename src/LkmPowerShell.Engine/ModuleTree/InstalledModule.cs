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
    internal static InstalledModule FromIndexPath(string indexPath, string modulesDirectory, SystemRoot? within = null)
    {
        var joined = indexPath.StartsWith('/') ? indexPath : System.IO.Path.Join(modulesDirectory, indexPath);
        return new(ModuleName.FromPath(indexPath), within is null || within.IsHost ? joined : within.Contain(joined), indexPath);
    }
}
