namespace LkmPowerShell.Engine.Dependencies;

/// <summary>Why a module is in a dependency answer, seen from the module asked about.</summary>
public enum DependencyRole
{
    /// <summary>The module asked about (what the name, alias or file resolved to).</summary>
    Target,
    /// <summary>Loaded before the target because modules.dep says it needs it (or, on the loaded kernel, because it holds it).</summary>
    Dependency,
    /// <summary>A soft dependency loaded before the module that names it (softdep pre:).</summary>
    SoftdepPre,
    /// <summary>A soft dependency loaded after the module that names it (softdep post:).</summary>
    SoftdepPost,
    /// <summary>A weak dependency: named for tools such as initramfs builders, never loaded by modprobe.</summary>
    Weakdep,
    /// <summary>Needs the target: its modules.dep line names it, or its softdep names it (-Reverse).</summary>
    User,
    /// <summary>A loaded module that holds the target (/sys/module/TARGET/holders).</summary>
    Holder,
    /// <summary>A dependency of the target that nothing else uses once it is gone (modprobe -r).</summary>
    UnusedDependency,
}

/// <summary>What the plan does with the module.</summary>
public enum DependencyAction
{
    /// <summary>init_module/finit_module on its file.</summary>
    Insert,
    /// <summary>Built into the kernel image: nothing to do.</summary>
    Builtin,
    /// <summary>The modprobe.d install command runs instead of the syscall.</summary>
    InstallCommand,
    /// <summary>Already live, or loaded by an earlier step.</summary>
    AlreadyLoaded,
    /// <summary>Named (by a soft dependency or an alias) but neither installed nor built in: left out.</summary>
    Unavailable,
    /// <summary>Left out on purpose (a blacklisted alias match).</summary>
    Skipped,
    /// <summary>Named but never loaded by modprobe (a weak dependency).</summary>
    NotLoaded,
    /// <summary>delete_module.</summary>
    Remove,
    /// <summary>The modprobe.d remove command runs instead of the syscall.</summary>
    RemoveCommand,
    /// <summary>Not loaded: nothing to remove.</summary>
    AlreadyAbsent,
    /// <summary>Loaded and left loaded by a removal: something else still uses it.</summary>
    StaysLoaded,
    /// <summary>A fact about the tree or the kernel, not a step (-Reverse, -Loaded).</summary>
    None,
}

/// <summary>The kind of edge: what a picture labels the arrow with.</summary>
public enum DependencyKind
{
    /// <summary>The target itself: no edge.</summary>
    None,
    /// <summary>Symbols: modules.dep (depmod's closure of what each module imports).</summary>
    Depends,
    /// <summary>modprobe.d or the module's own softdep: loaded around it, optional.</summary>
    Softdep,
    /// <summary>weakdep: named, never loaded.</summary>
    Weakdep,
    /// <summary>/sys/module/X/holders: the live kernel's references between loaded modules.</summary>
    Holder,
}

/// <summary>
/// One module of a dependency answer, in order: a step of the plan modprobe would carry out, a user
/// of a module (-Reverse) or an edge of the loaded kernel's holders graph. <see cref="NeededBy"/> and
/// <see cref="Needs"/> are the picture's edges (NeededBy → Module → Needs), labelled <see cref="Kind"/>.
/// </summary>
/// <param name="Query">The name, alias or path asked about.</param>
/// <param name="Order">1-based position in the answer (the plan's execution order).</param>
/// <param name="Module">The module's name.</param>
/// <param name="Path">Its file; null when built in, not installed, or known only to the kernel.</param>
/// <param name="Role">Why the module is in the answer.</param>
/// <param name="Action">What the plan does with it.</param>
/// <param name="Kind">The kind of its edges.</param>
/// <param name="Of">The module this one relates to (what the planner says: the module whose modules.dep line, softdep or holders brought it); null for the target.</param>
/// <param name="Reason">The relation in words, with the file and line it comes from.</param>
/// <param name="Source">The file (and line) the relation comes from: modules.dep, a modprobe.d line, /sys/module/X/holders.</param>
/// <param name="Optional">A failure of this step would be a warning, not an error (soft dependencies).</param>
/// <param name="Direct">
/// Whether the relation is one step: true when modules.dep proves it (the module is reached by no
/// other module of the same closure), false when it is reached through <see cref="Via"/> (it may
/// also be used directly; modinfo's depends says), null when it does not apply.
/// </param>
/// <param name="Via">For an indirect user: the modules it needs the target through.</param>
/// <param name="KernelVersion">The kernel the answer was made for.</param>
/// <param name="Parameters">The parameters the step passes (modprobe.d options, then the caller's).</param>
public sealed record DependencyRow(
    string Query,
    int Order,
    string Module,
    string? Path,
    DependencyRole Role,
    DependencyAction Action,
    DependencyKind Kind,
    string? Of,
    string Reason,
    string? Source,
    bool Optional,
    bool? Direct,
    IReadOnlyList<string> Via,
    string KernelVersion,
    string? Parameters)
{
    /// <summary>The modules with an arrow to this one (they need it).</summary>
    public IReadOnlyList<string> NeededBy { get; init; } = [];

    /// <summary>The modules this one has an arrow to (it needs them).</summary>
    public IReadOnlyList<string> Needs { get; init; } = [];

    public override string ToString() => $"{Order} {Action} {Module} ({Reason})";

    /// <summary>
    /// A source as a reason quotes it: the file's name and line ("modules.softdep:3", "bogus.conf:2"),
    /// or the sysfs path from /sys on; the whole path stays in <see cref="Source"/>.
    /// </summary>
    public static string Cite(string? source)
    {
        if (string.IsNullOrEmpty(source)) return "";
        var sys = source.IndexOf("/sys/module/", StringComparison.Ordinal);
        return " (" + (sys >= 0 ? source[sys..] : System.IO.Path.GetFileName(source)) + ")";
    }
}
