using LkmPowerShell.Engine.Dependencies;

namespace LkmPowerShell;

/// <summary>
/// One module of a dependency answer (Get-KernelModuleDependency): a step of the plan modprobe would
/// carry out, a user of a module (-Reverse), or an edge of the loaded kernel's holders graph (-Loaded).
/// Its Name is the module, so it binds to -Name of Import-KernelModule and the other cmdlets;
/// NeededBy → Name → Needs are the arrows ConvertTo-KernelModuleGraph draws.
/// </summary>
public sealed class KernelModuleDependency
{
    internal KernelModuleDependency(DependencyRow row)
    {
        Query = row.Query;
        Order = row.Order;
        Name = row.Module;
        Path = row.Path;
        Role = row.Role.ToString();
        Action = row.Action.ToString();
        Kind = row.Kind.ToString();
        Of = row.Of;
        Reason = row.Reason;
        Source = row.Source;
        Optional = row.Optional;
        Direct = row.Direct;
        Via = new ValueList(row.Via);
        NeededBy = new ValueList(row.NeededBy);
        Needs = new ValueList(row.Needs);
        KernelVersion = row.KernelVersion;
        Parameters = row.Parameters;
    }

    /// <summary>The name, alias, modalias or path asked about.</summary>
    public string Query { get; }

    /// <summary>1-based position: the plan's execution order.</summary>
    public int Order { get; }

    /// <summary>The module.</summary>
    public string Name { get; }

    /// <summary>Its file; empty when built in, not installed, or known only to the running kernel.</summary>
    public string? Path { get; }

    /// <summary>Target, Dependency, SoftdepPre, SoftdepPost, Weakdep, User, Holder or UnusedDependency.</summary>
    public string Role { get; }

    /// <summary>Insert, Builtin, InstallCommand, AlreadyLoaded, Unavailable, Skipped, NotLoaded, Remove, RemoveCommand, AlreadyAbsent, StaysLoaded or None.</summary>
    public string Action { get; }

    /// <summary>The kind of its arrows: Depends, Softdep, Weakdep, Holder; None for the target.</summary>
    public string Kind { get; }

    /// <summary>The module this one relates to (whose modules.dep line, softdep or holders brought it); empty for the target.</summary>
    public string? Of { get; }

    /// <summary>The relation in words, with the file and line it comes from.</summary>
    public string Reason { get; }

    /// <summary>The file (and line) the relation comes from.</summary>
    public string? Source { get; }

    /// <summary>A failure of this step is a warning, not an error (soft dependencies).</summary>
    public bool Optional { get; }

    /// <summary>True when modules.dep proves the relation is one step; false when it goes through Via; empty when it does not apply.</summary>
    public bool? Direct { get; }

    /// <summary>For an indirect user: the modules it needs the target through.</summary>
    public ValueList Via { get; }

    /// <summary>The modules with an arrow to this one (they need it).</summary>
    public ValueList NeededBy { get; }

    /// <summary>The modules this one has an arrow to (it needs them).</summary>
    public ValueList Needs { get; }

    /// <summary>The kernel the answer was made for.</summary>
    public string KernelVersion { get; }

    /// <summary>The parameters the step passes (modprobe.d options, then the caller's).</summary>
    public string? Parameters { get; }

    public override string ToString() => Name;
}
