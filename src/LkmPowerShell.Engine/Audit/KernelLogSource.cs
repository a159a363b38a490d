using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// The kernel log's lines, oldest first: /dev/kmsg on the host (the whole ring buffer, as dmesg
/// shows it); under another root, the file at /dev/kmsg there, read as text (a saved dmesg or
/// kmsg dump in an image or test fixture).
/// </summary>
internal static class KernelLogSource
{
    public const string SystemPath = "/dev/kmsg";

    /// <summary>A saved log larger than this is not a kernel ring buffer: it is refused, not read.</summary>
    public static readonly long MaxFileBytes = Files.FileLimits.SavedKernelLog.MaxBytes;

    /// <summary>More records than a ring buffer of the largest configurable size holds.</summary>
    private const int MaxRecords = 1_000_000;

    /// <summary>The lines, or null with the reason when the log cannot be read.</summary>
    public static IReadOnlyList<string>? Read(SystemRoot root, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(root);
        problem = null;
        if (root.IsHost)
        {
            using var log = KernelMessageLog.OpenAtStart(root);
            if (log is null)
            {
                problem = $"{SystemPath} cannot be opened: reading the kernel log needs root (CAP_SYSLOG) where kernel.dmesg_restrict is 1";
                return null;
            }
            return log.ReadNew(MaxRecords);
        }

        var path = root.Resolve(SystemPath);
        try
        {
            // Inside the root, a regular file only, within its limit: a FIFO, /dev/zero or a link out
            // of an image is a problem reported at once, never read (or waited on).
            var text = System.Text.Encoding.UTF8.GetString(Files.SafeFile.ReadAll(path, Files.FileLimits.SavedKernelLog, root));
            var lines = new List<string>();
            using var reader = new StringReader(text); // the lines File.ReadAllLines would give (\n, \r\n or \r)
            while (reader.ReadLine() is { } line)
                lines.Add(line);
            return lines;
        }
        catch (Files.FileRefusedException e) when (e.Reason == Files.FileRefusal.TooLarge)
        {
            problem = $"{path} is more than the {MaxFileBytes}-byte limit for a saved kernel log";
            return null;
        }
        catch (FileNotFoundException)
        {
            problem = $"{path} does not exist";
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"{path} cannot be read: {e.Message}";
            return null;
        }
    }
}
