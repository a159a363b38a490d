using LkmPowerShell.Engine.Tests.TestKit;
using LkmPowerShell.Engine.Tests.Kernel;

namespace LkmPowerShell.Engine.Tests.Audit;

/// <summary>
/// A fabricated guest for the audit: /proc, /sys, /dev/kmsg (as a text file) and an installed
/// module tree with the synthetic tree's signed fat.ko and msdos.ko. Starts as a
/// clean system (fat and msdos loaded, nothing tainted, settings as on Debian without Secure Boot);
/// each test adds the layout it is about.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class AuditRoot : IDisposable
{
    public const string Release = "6.1.0-99-amd64";
    private readonly List<string> _procModules = [];
    private readonly List<string> _kallsyms = ["ffffffff81000000 T _stext", "ffffffff81001000 T do_one_initcall"];
    private readonly List<string> _log = ["6,1,0,-;Linux version 6.1.0-99-amd64", "6,2,10,-;Command line: console=ttyS0"];
    private readonly List<string> _vmalloc = ["0xffffc90000000000-0xffffc90000005000   20480 irq_init_percpu_irqstack+0x114/0x1a0 vmap"];
    private ulong _nextBase = 0xffffffffc0a00000UL;

    public AuditRoot()
    {
        var synthetic = SyntheticTree.Shared;
        Fake.File("/proc/sys/kernel/osrelease", Release + "\n")
            .File("/sys/module/module/parameters/sig_enforce", "N\n")
            .File("/sys/kernel/security/lockdown", "[none] integrity confidentiality\n")
            .File("/proc/sys/kernel/modules_disabled", "0\n")
            .File("/proc/sys/kernel/modprobe", "/sbin/modprobe\n")
            .File("/sbin/modprobe", "#!/bin/sh\n")
            // A built-in with parameters: has a /sys/module directory but no initstate.
            .File("/sys/module/printk/parameters/time", "Y\n");
        File.SetUnixFileMode(Fake.Root.Resolve("/sbin/modprobe"), (UnixFileMode)0b111_101_101);
        Install("kernel/fs/fat/fat.ko", File.ReadAllBytes(Path.Combine(synthetic.ModulesDirectory, "kernel/fs/fat/fat.ko")));
        Install("kernel/fs/fat/msdos.ko", File.ReadAllBytes(Path.Combine(synthetic.ModulesDirectory, "kernel/fs/fat/msdos.ko")));
        Loaded("fat", holders: ["msdos"]);
        Loaded("msdos");
        Taint(0);
    }

    public FakeKernelRoot Fake { get; } = new();
    public SystemRoot Root => Fake.Root;
    private readonly List<string> _dep = [];

    /// <summary>A file in /lib/modules/&lt;release&gt; and its modules.dep line.</summary>
    public AuditRoot Install(string indexPath, byte[] bytes)
    {
        var full = Root.Resolve($"/lib/modules/{Release}/{indexPath}");
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        _dep.Add(indexPath + ":");
        Fake.File($"/lib/modules/{Release}/modules.dep", string.Join("\n", _dep) + "\n");
        return this;
    }

    /// <summary>A tiny unsigned module file with these .modinfo strings.</summary>
    public static byte[] TinyModule(string name, params string[] modinfo) => ModuleWriter.Build(name, [], [], modinfo);

    /// <summary>A module as the kernel shows a normal load: /proc/modules, /sys/module with initstate, symbols in kallsyms.</summary>
    /// <remarks>
    /// Every module also gets its memory: a module_alloc area in /proc/vmallocinfo, which the
    /// module has whether or not it hides; its sections in sysfs point into it.
    /// </remarks>
    public AuditRoot Loaded(string name, string taint = "", string? srcversion = null, string[]? holders = null,
        bool inProc = true, bool inSysfs = true, bool inKallsyms = true, string state = "Live")
    {
        var @base = _nextBase;
        _nextBase += 0x10000;
        if (inProc)
            _procModules.Insert(0, $"{name} 16384 {(holders?.Length ?? 0)} {(holders is { Length: > 0 } ? string.Join(",", holders) + "," : "-")} {state} 0x{@base:x16}{(taint.Length > 0 ? $" ({taint})" : "")}");
        if (inSysfs)
        {
            Fake.LoadedModule(name, taint: taint, srcversion: srcversion);
            Fake.File($"/sys/module/{name}/sections/.text", $"0x{@base:x16}\n");
            Fake.File($"/sys/module/{name}/sections/.data", $"0x{@base + 0x3000:x16}\n");
        }
        if (inKallsyms)
            _kallsyms.Add($"{@base + 0x10:x16} t {name}_init\t[{name}]");
        Memory(@base, 0x5000);
        Flush();
        return this;
    }

    /// <summary>A module-area allocation in /proc/vmallocinfo (module_alloc's unless another caller is given).</summary>
    public AuditRoot Memory(ulong start, ulong size, string caller = "module_alloc+0x2c/0x40")
    {
        _vmalloc.Add($"0x{start:x16}-0x{start + size:x16} {size,7} {caller} pages={size / 4096} vmalloc N0={size / 4096}");
        Flush();
        return this;
    }

    public AuditRoot Taint(ulong value)
    {
        Fake.File("/proc/sys/kernel/tainted", value + "\n");
        return this;
    }

    public AuditRoot Log(params string[] lines)
    {
        var seq = _log.Count + 1;
        foreach (var line in lines) _log.Add($"4,{seq++},{seq * 1000},-;{line}");
        Flush();
        return this;
    }

    public AuditRoot Kallsyms(string line)
    {
        _kallsyms.Add(line);
        Flush();
        return this;
    }

    private void Flush()
    {
        Fake.File("/proc/modules", string.Concat(_procModules.Select(l => l + "\n")));
        Fake.File("/proc/kallsyms", string.Concat(_kallsyms.Select(l => l + "\n")));
        Fake.File("/dev/kmsg", string.Concat(_log.Select(l => l + "\n")));
        Fake.File("/proc/vmallocinfo", string.Concat(_vmalloc.Select(l => l + "\n")));
    }

    public void Dispose() => Fake.Dispose();
}
