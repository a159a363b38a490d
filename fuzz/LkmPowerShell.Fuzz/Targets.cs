using System.Text;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Fuzz;

/// <summary>
/// One fuzz target per reader of untrusted bytes. Each runs the reader the way the cmdlets do and
/// accepts only the engine's own refusal (<see cref="ModuleFormatException"/>): any other exception,
/// a hang or a crash is a finding. The unit tests replay fuzz/regressions through these same targets.
/// </summary>
public static class Targets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["module"] = Module,
        ["index"] = Index,
        ["modules-dep"] = ModuleTreeTextFiles,
        ["modprobe-d"] = ModprobeD,
        ["kallsyms"] = Kallsyms,
    };

    /// <summary>A folder on tmpfs for the readers that take a path: one per process.</summary>
    private static readonly Lazy<string> Scratch = new(() =>
    {
        var baseDir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var dir = Path.Combine(baseDir, $"lkm-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(Path.Combine(dir, "proc"));
        return dir;
    });

    /// <summary>The module reader, plain or compressed (the seeds have both): ELF, modinfo, symbols, signature.</summary>
    public static void Module(byte[] data)
    {
        try
        {
            var info = ModuleFileReader.Parse(data, "fuzz.ko", data.Length);
            _ = ModinfoText.Format(info);
        }
        catch (ModuleFormatException) { }
    }

    /// <summary>A .bin index: every key and value, exact and wildcard lookups.</summary>
    public static void Index(byte[] data)
    {
        try
        {
            var index = IndexFile.Parse("fuzz.bin", data);
            var n = 0;
            foreach (var entry in index.Enumerate())
            {
                _ = index.Lookup(entry.Key);
                if (++n > 64) break;
            }
            _ = index.SearchWildcard("pci:v00008086d00001234sv00001111sd00002222bc02sc00i00");
            _ = index.Lookup("kernel/fs/fat/fat.ko");
            _ = index.LookupAll("fat");
        }
        catch (ModuleFormatException) { }
    }

    /// <summary>modules.dep, modules.alias and modules.softdep: the first byte picks the file.</summary>
    public static void ModuleTreeTextFiles(byte[] data)
    {
        if (data.Length == 0) return;
        var path = Path.Combine(Scratch.Value, "modules.txt");
        File.WriteAllBytes(path, data.AsSpan(1).ToArray());
        try
        {
            switch (data[0] % 3)
            {
                case 0: _ = ModulesDepFile.Read(path, "/lib/modules/0"); break;
                case 1: _ = ModulesAliasFile.Read(path); break;
                default: _ = ModulesSoftdepFile.Read(path); break;
            }
        }
        catch (ModuleFormatException) { }
    }

    /// <summary>One modprobe.d file; a bad line is a warning, so nothing may throw at all.</summary>
    public static void ModprobeD(byte[] data)
    {
        var builder = new ModprobeConfig.Builder();
        ModprobeConfigParser.Parse(Encoding.UTF8.GetString(data), "fuzz.conf", builder);
        _ = builder.Build();
    }

    /// <summary>/proc/kallsyms under a root, streamed in full.</summary>
    public static void Kallsyms(byte[] data)
    {
        File.WriteAllBytes(Path.Combine(Scratch.Value, "proc", "kallsyms"), data);
        try
        {
            foreach (var _ in new KallsymsReader(new SystemRoot(Scratch.Value)).Read()) { }
        }
        catch (ModuleFormatException) { }
    }
}
