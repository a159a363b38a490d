using System.Globalization;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// Reads the module-area allocations from /proc/vmallocinfo (readable by root only): every module
/// is loaded into memory the kernel allocates there (module_alloc up to 6.9, execmem_alloc since),
/// and so are BPF programs, kprobe instruction pages and ftrace trampolines, which /proc/kallsyms
/// lists under the pseudo-owners [bpf] and [__builtin__*]. An area that holds nothing any list
/// shows is memory of code that hides.
/// </summary>
internal static class ModuleMemoryReader
{
    public const string SystemPath = "/proc/vmallocinfo";

    /// <summary>A generous bound: the file has one line per vmalloc area, a few thousand on a busy system.</summary>
    public static readonly long MaxBytes = Files.FileLimits.VmallocInfo.MaxBytes;

    // x86_64's module area (MODULES_VADDR to MODULES_END, arch/x86/include/asm/pgtable_64_types.h);
    // KASLR moves modules inside it. Callers are matched too, for other architectures.
    private const ulong X86ModulesStart = 0xffffffffa0000000UL, X86ModulesEnd = 0xffffffffff000000UL;
    // The caller is the function that called the allocator: move_module (through module_alloc) up
    // to 6.3, module_memory_alloc or execmem_* later, and BPF's and kprobes' own allocators.
    private static readonly string[] ModuleAllocators = ["module_alloc", "move_module", "module_memory_alloc", "execmem_", "bpf_jit_alloc_exec", "alloc_insn_page"];

    /// <summary>The areas, or null with the reason when the file cannot be read or shows no addresses.</summary>
    public static IReadOnlyList<ModuleMemoryArea>? Read(SystemRoot root, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(root);
        problem = null;
        var path = root.Resolve(SystemPath);
        string text;
        try
        {
            // Inside the root (an image's copy), a regular file only, within its limit: a FIFO,
            // /dev/zero or a link out of the root is a problem at once, never read or waited on.
            text = System.Text.Encoding.UTF8.GetString(Files.SafeFile.ReadAll(path, Files.FileLimits.VmallocInfo, root.IsHost ? null : root));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            problem = $"{path} does not exist";
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            problem = $"{path} is readable by root only";
            return null;
        }
        catch (IOException e)
        {
            problem = $"{path} cannot be read: {e.Message}";
            return null;
        }
        var areas = Parse(text, out var addressesUsable);
        if (!addressesUsable)
        {
            // %pK in vmallocinfo prints hashed values when kernel.kptr_restrict is 0, and zeros
            // to readers without CAP_SYSLOG: neither can be compared with real addresses.
            problem = $"{path} shows no real addresses (hashed when kernel.kptr_restrict is 0, zero without CAP_SYSLOG; kernel.kptr_restrict=1 lets root see them)";
            return null;
        }
        return areas;
    }

    /// <summary>The module-area lines of a vmallocinfo text: "0xSTART-0xEND SIZE CALLER ...".</summary>
    public static IReadOnlyList<ModuleMemoryArea> Parse(string text) => Parse(text, out _);

    /// <param name="text">The file's text.</param>
    /// <param name="addressesUsable">
    /// False when the addresses are not real kernel addresses: every kernel virtual address on a
    /// 64-bit kernel has its top bit set, a hashed or zeroed one does not.
    /// </param>
    public static IReadOnlyList<ModuleMemoryArea> Parse(string text, out bool addressesUsable)
    {
        var areas = new List<ModuleMemoryArea>();
        var real = 0;
        var fake = 0;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 3) continue;
            var dash = fields[0].IndexOf('-');
            if (dash < 0 || !TryHex(fields[0][..dash], out var start) || !TryHex(fields[0][(dash + 1)..], out var end)) continue;
            if ((start & 0x8000000000000000UL) != 0) real++; else fake++;
            if (end <= start) continue;
            var caller = fields[2];
            var inModuleArea = start >= X86ModulesStart && start < X86ModulesEnd;
            if (inModuleArea || ModuleAllocators.Any(a => caller.StartsWith(a, StringComparison.Ordinal)))
                areas.Add(new ModuleMemoryArea(start, end, line.Trim()));
        }
        addressesUsable = real > 0 && fake == 0;
        return areas;
    }

    private static bool TryHex(string text, out ulong value) =>
        ulong.TryParse(text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}
