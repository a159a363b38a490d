namespace LkmPowerShell.Engine.Kernel;

/// <summary>Whether this process may load and unload modules: CAP_SYS_MODULE in its effective set.</summary>
internal static class Privileges
{
    private const int CapSysModule = 16;

    /// <summary>Reads CapEff from /proc/self/status; false when it cannot be read.</summary>
    public static bool CanManageModules()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    return (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << CapSysModule)) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return false;
    }
}
