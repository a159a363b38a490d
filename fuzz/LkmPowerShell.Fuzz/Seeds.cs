using System.Buffers.Binary;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Depmod;

namespace LkmPowerShell.Fuzz;

/// <summary>Seeds no fixture file holds as such: depmod's cache and record, made by a real run.</summary>
public static class Seeds
{
    /// <summary>
    /// Runs depmod with its cache over a few modules of <paramref name="modulesDirectory"/> (copied
    /// to a temporary tree) and writes the cache and the record in the depmod-cache target's layout.
    /// </summary>
    public static void DepmodCache(string folder, string modulesDirectory)
    {
        var temp = Directory.CreateTempSubdirectory("lkm-fuzz-seeds-").FullName;
        try
        {
            const string version = "6.1.0-0-fuzz";
            var tree = Path.Combine(temp, "root/lib/modules", version);
            var modules = Directory.EnumerateFiles(modulesDirectory, "*.ko*", SearchOption.AllDirectories)
                .Select(f => new FileInfo(f)).OrderBy(f => f.Length).Take(6).ToList();
            foreach (var m in modules)
            {
                var target = Path.Combine(tree, "kernel", m.Name);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                m.CopyTo(target);
            }
            var output = Path.Combine(temp, "out");
            DepmodRunner.Run(new DepmodOptions { Root = new SystemRoot(Path.Combine(temp, "root")), KernelVersion = version, OutputRoot = output, UseCache = true, ConfigPaths = [] });
            var cachePath = Engine.Depmod.DepmodCache.PathFor(new SystemRoot(Path.Combine(temp, "root")), output, version)!;
            var index = File.ReadAllBytes(cachePath);
            var facts = File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(cachePath)!, Engine.Depmod.DepmodCache.FactsFileName));
            var record = File.ReadAllBytes(DepmodOutputRecord.PathBeside(cachePath));
            Directory.CreateDirectory(folder);
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)(index.Length - 32));
            File.WriteAllBytes(Path.Combine(folder, "cache"), [0, .. length, .. index.AsSpan(0, index.Length - 32), .. facts]);
            File.WriteAllBytes(Path.Combine(folder, "record"), [1, .. record.AsSpan(0, record.Length - 32)]);
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }
}
