namespace LkmPowerShell.Engine.Depmod;

/// <summary>How the .bin index files lay out their trie nodes.</summary>
public enum IndexLayout
{
    /// <summary>kmod up to 33: children before their parent, the root node last (what Debian 12's depmod writes).</summary>
    PostOrder,

    /// <summary>kmod 34 and later: a parent before its children, the root node right after the header.</summary>
    PreOrder,
}

/// <summary>
/// What one depmod run does: the tree to index (<see cref="Root"/>, <see cref="KernelVersion"/>),
/// where the files go, which configuration and symbol checks apply. The defaults give
/// <c>depmod -b ROOT VERSION</c> of kmod 30, except where noted.
/// </summary>
public sealed record DepmodOptions
{
    /// <summary>The configuration folders kmod searches, in its order (earlier folders win a tie of file names).</summary>
    public static readonly IReadOnlyList<string> DefaultConfigDirectories =
        ["/etc/depmod.d", "/run/depmod.d", "/usr/local/lib/depmod.d", "/lib/depmod.d"];

    /// <summary>Like <c>depmod -b</c>: the image whose /lib/modules/&lt;version&gt; is indexed.</summary>
    public SystemRoot Root { get; init; } = SystemRoot.Host;

    public required string KernelVersion { get; init; }

    /// <summary>
    /// Like kmod 31+'s <c>depmod -o</c>: the files go to &lt;OutputRoot&gt;/lib/modules/&lt;version&gt;
    /// (created when missing) instead of the modules folder. The tree itself is still read from
    /// <see cref="Root"/>. Null: the modules folder.
    /// </summary>
    public string? OutputRoot { get; init; }

    /// <summary>
    /// depmod.d folders or single files (like <c>depmod -C</c>, which may be given several times).
    /// Null: <see cref="DefaultConfigDirectories"/> resolved under <see cref="Root"/>. kmod 30 reads
    /// the host's folders even with -b; an image's own configuration is what belongs to its
    /// modules, so the default here is the image's. Pass absolute host paths to get kmod's choice.
    /// </summary>
    public IReadOnlyList<string>? ConfigPaths { get; init; }

    /// <summary>Like <c>depmod -e -F</c>: System.map whose __ksymtab_ entries are the kernel's exports, for the unknown-symbol check.</summary>
    public string? SystemMapPath { get; init; }

    /// <summary>Like <c>depmod -e -E</c>: Module.symvers, whose vmlinux rows give the kernel's exports and their CRCs (takes precedence over <see cref="SystemMapPath"/>).</summary>
    public string? SymVersPath { get; init; }

    public IndexLayout Layout { get; init; } = IndexLayout.PostOrder;

    /// <summary>Like <c>depmod -A</c>: when no module file is newer than modules.dep, do nothing.</summary>
    public bool Quick { get; init; }

    /// <summary>Also write modules.weakdep, as kmod 33 and later do (kmod 30 does not). Default true.</summary>
    public bool WriteWeakDependencies { get; init; } = true;

    /// <summary>
    /// Keep what each module file yielded in <see cref="DepmodCache.FileName"/> (under the tree's
    /// /var/cache/lkmpowershell/depmod/&lt;version&gt;, see <see cref="DepmodCache.PathFor"/>)
    /// and reuse it for files whose identity (inode, size, mtime, ctime) has not changed. Default true.
    /// </summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Modules read at once. Default: the processor count.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>How long to wait for another run that is publishing into the same folder. Default 60 s.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public IProgress<DepmodProgress>? Progress { get; init; }

    /// <summary>Called for each warning as it happens (they are also in the result).</summary>
    public Action<DepmodWarning>? Warning { get; init; }

    /// <summary>
    /// Test hook: called with the name of each publishing step (see <see cref="IndexPublisher"/>);
    /// an exception thrown from it behaves like a crash at that point.
    /// </summary>
    internal Action<string>? StepHook { get; init; }
}

public enum DepmodStage
{
    Scanning,
    Reading,
    Resolving,
    Writing,
}

/// <summary>Progress of a run: the stage, and within Reading how many modules of how many are done.</summary>
public readonly record struct DepmodProgress(DepmodStage Stage, int Completed, int Total, string? CurrentPath);
