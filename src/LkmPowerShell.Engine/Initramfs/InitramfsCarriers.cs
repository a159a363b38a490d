using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Integrity;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Initramfs;

/// <summary>
/// Which installed kernels' initramfs carry a module without a setting that disables or
/// blacklists it there. Each image is read and decompressed once per instance, however many
/// modules are asked about: an initramfs is tens of MB decompressed, and a hardening run asks about
/// ten or more modules (reading each image once per module made Disable-KernelModule minutes slow
/// in an emulated guest).
/// </summary>
public sealed class InitramfsCarriers(SystemRoot root)
{
    private List<(string Version, HashSet<string> Modules, ModprobeConfig Config)>? _images;

    /// <summary>The kernel versions whose initramfs carries <paramref name="module"/> without a setting that stops it.</summary>
    public IReadOnlyList<string> KernelsStillCarrying(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var name = ModuleName.Normalize(module);
        var found = new List<string>();
        foreach (var (version, modules, config) in Images())
        {
            if (!modules.Contains(name)) continue;
            var block = ModuleLoadBlock.Of(config, name);
            if (!block.Disabled && !block.Blacklisted) found.Add(version);
        }
        return found;
    }

    private List<(string, HashSet<string>, ModprobeConfig)> Images()
    {
        if (_images is not null) return _images;
        _images = [];
        foreach (var version in ModuleDirectory.InstalledKernelVersions(root))
        {
            try
            {
                var image = InitramfsImage.Read(InitramfsImage.PathFor(root, version), root);
                var inner = ModprobeConfig.Parse(string.Join('\n', image.ModprobeFiles.Select(f => f.Text)), "the initramfs's modprobe.d");
                _images.Add((version, [.. image.Modules.Select(m => m.Name)], inner));
            }
            catch (Exception e) when (ModuleTreeVerification.IsReadFailure(e))
            {
                // No initramfs, or one that cannot be read: it carries nothing this can see.
            }
        }
        return _images;
    }
}
