using LkmPowerShell.Engine.Kernel;

namespace LkmPowerShell;

/// <summary>A module in the running kernel, as lsmod and /sys/module describe it.</summary>
public sealed class LoadedKernelModule
{
    internal LoadedKernelModule(LoadedModule m, bool? changed = null)
    {
        Changed = changed;
        Name = m.Name;
        Size = m.Size;
        ReferenceCount = m.ReferenceCount;
        UsedBy = new ValueList(m.UsedBy);
        State = m.State.ToString();
        Address = m.AddressHex;
        Taints = m.Taints;
        Version = m.Version;
        SourceVersion = m.SourceVersion;
        Parameters = new Dictionary<string, string>(m.Parameters, StringComparer.Ordinal);
        UnreadableParameters = new ValueList(m.UnreadableParameters);
        InitSize = m.InitSize;
        TotalSize = m.TotalSize;
        IsPermanent = m.IsPermanent;
        IsBuiltin = m.IsBuiltin;
    }

    public string Name { get; }

    /// <summary>lsmod's size: /sys/module/NAME/coresize.</summary>
    public long? Size { get; }

    /// <summary>lsmod's use count: /sys/module/NAME/refcnt (null when the kernel does not count, as for built-ins).</summary>
    public int? ReferenceCount { get; }

    /// <summary>The modules holding this one (/sys/module/NAME/holders).</summary>
    public ValueList UsedBy { get; }

    /// <summary>Live, Loading, Unloading or Builtin; NotLoaded for a module Remove-KernelModule -PassThru found absent.</summary>
    public string State { get; }

    public string? Address { get; }
    public string Taints { get; }
    public string? Version { get; }
    public string? SourceVersion { get; }

    /// <summary>Current parameter values from /sys/module/NAME/parameters.</summary>
    public Dictionary<string, string> Parameters { get; }

    /// <summary>Parameters whose value the kernel does not let this user read.</summary>
    public ValueList UnreadableParameters { get; }

    public long? InitSize { get; }

    /// <summary>/proc/modules' size: all of the module's memory on kernels 6.4 and later.</summary>
    public long? TotalSize { get; }

    public bool IsPermanent { get; }
    public bool IsBuiltin { get; }

    /// <summary>
    /// From Import- and Remove-KernelModule -PassThru: whether that call changed anything (the
    /// kernel, or with -Persist the boot-time files), as Ansible's "changed"; null from
    /// Get-KernelModule, which changes nothing.
    /// </summary>
    public bool? Changed { get; }

    /// <summary>A module that is not loaded (Remove-KernelModule -PassThru of a module already absent): only its name and <see cref="Changed"/>.</summary>
    internal static LoadedKernelModule NotLoaded(string name, bool changed) => new(name, changed);

    private LoadedKernelModule(string name, bool changed)
    {
        Name = name;
        UsedBy = new ValueList([]);
        State = NotLoadedState;
        Taints = "";
        Parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        UnreadableParameters = new ValueList([]);
        Changed = changed;
    }

    /// <summary>The State of a module that is not in the kernel.</summary>
    public const string NotLoadedState = "NotLoaded";

    public override string ToString() => Name;
}
