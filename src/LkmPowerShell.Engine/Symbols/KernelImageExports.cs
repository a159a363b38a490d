using LkmPowerShell.Engine.Depmod;

namespace LkmPowerShell.Engine.Symbols;

/// <summary>
/// What the kernel image (vmlinux) of a kernel version exports, for when that kernel is not the
/// one running: the vmlinux rows of its Module.symvers, which the kernel's headers package installs
/// (Debian: linux-headers-VERSION, reached through lib/modules/VERSION/build), else a full
/// /boot/System.map-VERSION (Debian's is a stub, which counts as absent).
/// </summary>
internal sealed class KernelImageExports
{
    private readonly HashSet<string> _names;

    private KernelImageExports(HashSet<string> names, string source)
    {
        _names = names;
        Source = source;
    }

    /// <summary>The file the names came from, as a path under the root.</summary>
    public string Source { get; }

    public int Count => _names.Count;

    public bool Contains(string symbol) => _names.Contains(symbol);

    /// <summary>The system paths where a kernel's Module.symvers is looked for, in order.</summary>
    public static IEnumerable<string> Candidates(string kernelVersion) =>
    [
        $"/lib/modules/{kernelVersion}/build/Module.symvers",
        $"/usr/src/linux-headers-{kernelVersion}/Module.symvers",
    ];

    /// <summary>The exports of <paramref name="kernelVersion"/>'s image from under <paramref name="root"/>; null when no Module.symvers is there (or none is readable).</summary>
    public static KernelImageExports? Find(SystemRoot root, string kernelVersion)
    {
        var within = root.IsHost ? null : root;
        foreach (var candidate in Candidates(kernelVersion))
            if (TryRead(root.Resolve(candidate), path => KernelSymbols.ReadSymVers(path, _ => { }, within)) is { } exports)
                return exports;
        // A full System.map (a kernel built by hand, a -dbg package) lists the image's __ksymtab_
        // entries, as depmod -F reads them; Debian's is a one-line stub, which yields none.
        return TryRead(root.Resolve(SystemMapPath(kernelVersion)), path => KernelSymbols.ReadSystemMap(path, _ => { }, within));
    }

    /// <summary>Where a kernel's System.map is installed.</summary>
    public static string SystemMapPath(string kernelVersion) => $"/boot/System.map-{kernelVersion}";

    private static KernelImageExports? TryRead(string path, Func<string, KernelSymbols> read)
    {
        try
        {
            var symbols = read(path);
            if (symbols.Symbols.Count > 0)
                return new KernelImageExports(symbols.Symbols.Select(s => s.Name).ToHashSet(StringComparer.Ordinal), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Files.FileRefusedException)
        {
            // Missing, unreadable or refused: try the next place; none means "cannot check".
        }
        return null;
    }
}
