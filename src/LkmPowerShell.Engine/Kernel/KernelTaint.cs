using System.Globalization;
using System.Text;

namespace LkmPowerShell.Engine.Kernel;

/// <summary>The kernel's taint bits (include/linux/panic.h), bit n = 1 &lt;&lt; n.</summary>
[Flags]
public enum KernelTaintFlags : ulong
{
    None = 0,
    ProprietaryModule = 1UL << 0,
    ForcedModule = 1UL << 1,
    CpuOutOfSpec = 1UL << 2,
    ForcedRmmod = 1UL << 3,
    MachineCheck = 1UL << 4,
    BadPage = 1UL << 5,
    User = 1UL << 6,
    Die = 1UL << 7,
    OverriddenAcpiTable = 1UL << 8,
    Warn = 1UL << 9,
    Crap = 1UL << 10,
    FirmwareWorkaround = 1UL << 11,
    OutOfTreeModule = 1UL << 12,
    UnsignedModule = 1UL << 13,
    SoftLockup = 1UL << 14,
    Livepatch = 1UL << 15,
    Aux = 1UL << 16,
    RandStruct = 1UL << 17,
    Test = 1UL << 18,
    Fwctl = 1UL << 19,
}

/// <summary>
/// /proc/sys/kernel/tainted decoded: the raw mask, its flags, and the letters the kernel uses in
/// oops reports and /proc/modules (kernel/panic.c, taint_flags), set flags only, in bit order.
/// Bits this table does not know yet are kept in <see cref="UnknownBits"/> and shown as "?".
/// </summary>
public sealed record KernelTaint(ulong Value, KernelTaintFlags Flags, string Letters, ulong UnknownBits)
{
    /// <summary>Bit, letter and meaning, as in the kernel's Documentation/admin-guide/tainted-kernels.rst.</summary>
    public static IReadOnlyList<(int Bit, char Letter, string Meaning)> Table { get; } =
    [
        (0, 'P', "proprietary module was loaded"),
        (1, 'F', "module was force loaded"),
        (2, 'S', "kernel running on an out of specification system"),
        (3, 'R', "module was force unloaded"),
        (4, 'M', "processor reported a Machine Check Exception (MCE)"),
        (5, 'B', "bad page referenced or some unexpected page flags"),
        (6, 'U', "taint requested by userspace application"),
        (7, 'D', "kernel died recently, i.e. there was an OOPS or BUG"),
        (8, 'A', "an ACPI table was overridden by user"),
        (9, 'W', "kernel issued warning"),
        (10, 'C', "staging driver was loaded"),
        (11, 'I', "workaround for bug in platform firmware applied"),
        (12, 'O', "externally-built (\"out-of-tree\") module was loaded"),
        (13, 'E', "unsigned module was loaded"),
        (14, 'L', "soft lockup occurred"),
        (15, 'K', "kernel has been live patched"),
        (16, 'X', "auxiliary taint, defined for and used by distros"),
        (17, 'T', "kernel was built with the struct randomization plugin"),
        (18, 'N', "an in-kernel test has been run"),
        (19, 'J', "userspace used a mutating debug operation in fwctl"),
    ];

    public const string SystemPath = "/proc/sys/kernel/tainted";

    private const ulong KnownMask = (1UL << 20) - 1;

    public bool IsTainted => Value != 0;

    /// <summary>The meaning of every set bit, in bit order.</summary>
    public IReadOnlyList<string> Reasons =>
        Table.Where(t => (Value & (1UL << t.Bit)) != 0).Select(t => $"{t.Letter}: {t.Meaning}")
            .Concat(Enumerable.Range(0, 64).Where(b => (UnknownBits & (1UL << b)) != 0).Select(b => $"?: bit {b}, unknown to this version"))
            .ToList();

    public static KernelTaint FromValue(ulong value)
    {
        var letters = new StringBuilder();
        foreach (var (bit, letter, _) in Table)
            if ((value & (1UL << bit)) != 0) letters.Append(letter);
        var unknown = value & ~KnownMask;
        if (unknown != 0) letters.Append('?');
        return new KernelTaint(value, (KernelTaintFlags)(value & KnownMask), letters.ToString(), unknown);
    }

    /// <summary>Parses the file's text (a decimal number and a newline).</summary>
    public static KernelTaint Parse(string text) =>
        ulong.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? FromValue(v)
            : throw new FormatException($"'{text.Trim()}' is not a taint mask: {SystemPath} holds a decimal number.");

    /// <summary>
    /// The bits a module sets on itself as well as on the kernel (add_taint_module in
    /// kernel/module/main.c): only these can be explained by a loaded module's own taint letters.
    /// </summary>
    public const KernelTaintFlags ModuleFlags = KernelTaintFlags.ProprietaryModule | KernelTaintFlags.ForcedModule
        | KernelTaintFlags.Crap | KernelTaintFlags.OutOfTreeModule | KernelTaintFlags.UnsignedModule
        | KernelTaintFlags.Livepatch | KernelTaintFlags.Test;

    /// <summary>The bit of a taint letter, or -1 for a letter the table does not know.</summary>
    public static int BitOf(char letter)
    {
        foreach (var (bit, l, _) in Table)
            if (l == letter) return bit;
        return -1;
    }

    /// <summary>What a letter means, in the kernel documentation's words; null for an unknown letter.</summary>
    public static string? MeaningOf(char letter)
    {
        foreach (var (_, l, meaning) in Table)
            if (l == letter) return meaning;
        return null;
    }

    /// <summary>
    /// The flags of a module's taint letters as /proc/modules and /sys/module/&lt;name&gt;/taint
    /// print them ("OE"); unknown letters and the +/- state marks are ignored.
    /// </summary>
    public static KernelTaintFlags FlagsFromLetters(string? letters)
    {
        var flags = KernelTaintFlags.None;
        foreach (var c in letters ?? "")
            if (BitOf(c) is var bit and >= 0) flags |= (KernelTaintFlags)(1UL << bit);
        return flags;
    }

    /// <summary>The letters of some flags, in bit order ("OE").</summary>
    public static string LettersOf(KernelTaintFlags flags) => FromValue((ulong)flags).Letters;

    public override string ToString() => IsTainted ? $"{Letters} ({Value})" : "Not tainted";
}
