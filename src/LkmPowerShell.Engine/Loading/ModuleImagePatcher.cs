using LkmPowerShell.Engine.Elf;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// kmod's forced loading on the init_module path, where the kernel takes no "ignore" flags: the
/// __versions section loses SHF_ALLOC (so the kernel skips CRC checks) and the "vermagic=" string
/// of .modinfo is blanked (so the release check passes). Done in place, on a private copy.
/// </summary>
internal static class ModuleImagePatcher
{
    public static void StripForForce(byte[] image, string path, bool modversions, bool vermagic)
    {
        var elf = ElfImage.Parse(image, path);
        if (modversions && elf.FindSection("__versions") is { } versions)
        {
            // sh_flags sits at offset 8 of a section header in both word sizes.
            var at = (int)versions.HeaderOffset + 8;
            var flags = elf.ReadUnsigned(at, elf.Is64Bit ? 8 : 4) & ~ElfSection.ShfAlloc;
            Write(image, at, flags, elf.Is64Bit ? 8 : 4, elf.IsBigEndian);
        }
        if (vermagic && elf.FindSection(".modinfo") is { } modinfo)
        {
            var data = elf.SectionData(modinfo);
            var key = "vermagic="u8;
            var i = 0;
            while (i < data.Length)
            {
                var end = data[i..].IndexOf((byte)0);
                var len = end < 0 ? data.Length - i : end;
                if (data.Slice(i, len).StartsWith(key))
                {
                    Array.Clear(image, (int)modinfo.Offset + i, len);
                    break;
                }
                i += len + 1;
            }
        }
    }

    private static void Write(byte[] image, int at, ulong value, int size, bool bigEndian)
    {
        for (var b = 0; b < size; b++)
        {
            var shift = bigEndian ? (size - 1 - b) * 8 : b * 8;
            image[at + b] = (byte)(value >> shift);
        }
    }
}
