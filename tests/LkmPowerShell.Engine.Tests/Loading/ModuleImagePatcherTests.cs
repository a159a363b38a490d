using LkmPowerShell.Engine.Elf;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Loading;

/// <summary>The forced init_module image: __versions without SHF_ALLOC, vermagic blanked, nothing else touched.</summary>
[Trait("Layer", "Oracle")]
public class ModuleImagePatcherTests
{
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void StripsOnlyWhatForceAsksFor(bool modversions, bool vermagic)
    {
        var path = Path.Combine(KernelFixtures.Plain.ModulesDirectory, "kernel/fs/fat/msdos.ko");
        var original = File.ReadAllBytes(path);
        var image = (byte[])original.Clone();
        ModuleImagePatcher.StripForForce(image, path, modversions, vermagic);

        var elf = ElfImage.Parse(image, path);
        var versions = elf.FindSection("__versions")!;
        Assert.Equal(!modversions, (versions.Flags & ElfSection.ShfAlloc) != 0);
        var info = ModuleFileReader.Parse(image, path, image.Length);
        Assert.Equal(!vermagic, info.GetValue("vermagic") is not null);
        Assert.Equal("fat", info.GetValue("depends"));

        // Blanking vermagic zeroes its "vermagic=<value>" text: the value is the fixture's own, never a
        // release written here (the pinned kernels move).
        var originalVermagic = ModuleFileReader.Parse(original, path, original.Length).GetValue("vermagic");
        Assert.StartsWith(KernelFixtures.Plain.Version + " ", originalVermagic);
        var changed = Enumerable.Range(0, image.Length).Count(i => image[i] != original[i]);
        var expected = (modversions ? 1 : 0) + (vermagic ? ("vermagic=" + originalVermagic).Length : 0);
        Assert.Equal(expected, changed);
    }
}
