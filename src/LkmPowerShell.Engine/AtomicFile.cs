using System.Text;

namespace LkmPowerShell.Engine;

/// <summary>
/// Writes a configuration file so that readers (modprobe, systemd-modules-load, a crash) see the
/// old content or the new one, never half of it: a temporary file in the same folder, flushed to
/// disk, mode 0644, renamed over the target.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, string content)
    {
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Join(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(Encoding.UTF8.GetBytes(content));
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
    }
}
