using LkmPowerShell.Engine.Depmod;

namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// The module list made from a modules.dep.bin, kept for the process while that file is the same
/// one: same device, inode, size, mtime and ctime (<see cref="FileIdentity"/>, taken from the
/// open file, so the identity and the bytes it stands for are one file's). depmod replaces the
/// file by rename, and any write moves its ctime, so a new index is always read again.
/// </summary>
/// <remarks>
/// Every listing (each Get-KernelModule -ListAvailable, with or without -Name) needs the whole
/// list: 4,000 entries decoded, ordered and turned into paths, 10-15 ms of CPU once the JIT has
/// optimised the code and several times that before. A session lists the same tree again and
/// again; it then costs one statx. A few trees at most are kept (a session looks at one or two
/// roots); the lists are immutable and shared.
/// </remarks>
internal static class ModuleListCache
{
    private const int MaxEntries = 8;
    private static readonly Dictionary<string, (FileIdentity Identity, IReadOnlyList<InstalledModule> Modules, long Used)> Entries = new(StringComparer.Ordinal);
    private static long _clock;
    private static readonly Lock Gate = new();

    public static IReadOnlyList<InstalledModule>? Get(string key, FileIdentity identity)
    {
        lock (Gate)
        {
            if (!Entries.TryGetValue(key, out var e) || e.Identity != identity)
                return null;
            Entries[key] = e with { Used = ++_clock };
            return e.Modules;
        }
    }

    public static void Put(string key, FileIdentity identity, IReadOnlyList<InstalledModule> modules)
    {
        lock (Gate)
        {
            if (Entries.Count >= MaxEntries && !Entries.ContainsKey(key))
                Entries.Remove(Entries.MinBy(e => e.Value.Used).Key); // the least recently used
            Entries[key] = (identity, modules, ++_clock);
        }
    }

    /// <summary>For tests: forget every list.</summary>
    internal static void Clear()
    {
        lock (Gate)
            Entries.Clear();
    }
}
