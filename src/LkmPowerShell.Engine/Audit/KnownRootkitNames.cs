namespace LkmPowerShell.Engine.Audit;

/// <summary>A name a known rootkit uses: the rootkit's family and where the name comes from.</summary>
public sealed record KnownRootkitName(string Name, string Family, string Source)
{
    public override string ToString() => $"{Name} ({Family}; {Source})";
}

/// <summary>
/// The cheap signatures the established checkers carry, as facts rather than verdicts: kernel
/// symbol names of public LKM rootkits, and module file names long known to be bad. The lists are
/// those rkhunter 1.4 checks (its per-rootkit KSYMS lists, matched against /proc/kallsyms, and
/// LKM_BADNAMES, matched against the file names under /lib/modules/&lt;release&gt;). A name is
/// trivially changed by whoever builds the rootkit, and a harmless module could share one, so a
/// match is a lead: the audit names it, and never rests a Critical finding on it alone.
/// Symbols match whole names only (rkhunter greps substrings, which catches more and
/// mis-catches more); files match the name with or without .xz, .zst or .gz, as the kernel loads them.
/// </summary>
public static class KnownRootkitNames
{
    private const string RkhunterSymbols = "rkhunter 1.4 rootkit symbol list";
    private const string RkhunterModules = "rkhunter 1.4 LKM_BADNAMES";

    /// <summary>Kernel symbol names, by name.</summary>
    public static readonly IReadOnlyDictionary<string, KnownRootkitName> Symbols = Index(
        ("Diamorphine", RkhunterSymbols, ["diamorphine", "module_hide", "module_hidden", "is_invisible", "hacked_getdents", "hacked_kill"]),
        ("Heroin", RkhunterSymbols, ["heroin"]),
        ("Intoxonia", RkhunterSymbols, ["funces", "ixinit", "tricks", "kernel_unlink", "rootme", "hide_module", "find_sys_call_tbl"]),
        ("KBeast", RkhunterSymbols, ["h4x_delete_module", "h4x_getdents64", "h4x_kill", "h4x_open", "h4x_read", "h4x_rename", "h4x_rmdir", "h4x_tcp4_seq_show", "h4x_write"]),
        ("Vampire", RkhunterSymbols, ["new_getdents", "old_getdents", "should_hide_file_name", "should_hide_task_name"]),
        ("Adore or Sebek", RkhunterSymbols, ["adore", "sebek"]));

    /// <summary>Module file names (without a compression suffix), by name.</summary>
    public static readonly IReadOnlyDictionary<string, KnownRootkitName> ModuleFiles = Index(
        ("Adore", RkhunterModules, ["adore.o", "cleaner.o"]),
        ("Beastkit (Adore)", RkhunterModules, ["bkit-adore.o"]),
        ("Knark", RkhunterModules, ["knark.o"]),
        ("THC-Vlogger keylogger", RkhunterModules, ["vlogger.o"]),
        ("klgr keylogger", RkhunterModules, ["mod_klgr.o"]),
        ("process-hiding module", RkhunterModules, ["phide_mod.o", "modhide.o"]),
        ("Diamorphine", RkhunterModules, ["diamorphine.ko"]),
        ("unnamed", RkhunterModules, ["flkm.o", "p2.ko", "rpldev.o", "xC.o", "strings.o", "wkmr26.ko"]));

    /// <summary>The known-bad module file a file name is, compression suffix ignored; null when none.</summary>
    public static KnownRootkitName? ModuleFile(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        foreach (var suffix in (ReadOnlySpan<string>)[".xz", ".zst", ".gz"])
            if (fileName.EndsWith(suffix, StringComparison.Ordinal))
            {
                fileName = fileName[..^suffix.Length];
                break;
            }
        return ModuleFiles.GetValueOrDefault(fileName);
    }

    private static Dictionary<string, KnownRootkitName> Index(params (string Family, string Source, string[] Names)[] lists)
    {
        var index = new Dictionary<string, KnownRootkitName>(StringComparer.Ordinal);
        foreach (var (family, source, names) in lists)
            foreach (var name in names)
                index[name] = new KnownRootkitName(name, family, source);
        return index;
    }
}
