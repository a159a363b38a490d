using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Symbols;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// What would make the kernel refuse a module file, found before asking it, so the error can say
/// which symbols are missing and which module exports them, instead of the kernel's "Unknown
/// symbol in module". Used for loading by path (insmod), where nothing else is loaded first.
/// </summary>
internal static class InsertPreflight
{
    /// <summary>Symbols every module references that are bookkeeping, not exports to look for.</summary>
    private static readonly HashSet<string> Bookkeeping = new(StringComparer.Ordinal) { "module_layout", "struct_module" };

    /// <summary>kallsyms with fewer vmlinux exports than this lacks them (no CONFIG_KALLSYMS_ALL): then symbols are not judged.</summary>
    private const int PlausibleKernelExports = 1000;

    /// <summary>The refusal the kernel would give, or null when none is foreseen.</summary>
    /// <remarks><paramref name="ignoreVermagic"/>: The load will ask the kernel to ignore the version magic.</remarks>
    public static ModuleWouldBeRefusedException? Check(ModuleFileInfo module, IKernel kernel, ModuleDirectory? tree, bool ignoreVermagic)
    {
        var release = kernel.Release;
        var built = module.KernelVersion;
        if (!ignoreVermagic && built is not null && release is not null && built != release)
            return new ModuleWouldBeRefusedException(module.Name, module.Path, RefusalReason.BuiltForOtherKernel,
                $"{module.Name} was built for kernel {built}, but the running kernel is {release}: the kernel would refuse it (Invalid module format).")
            { BuiltFor = built, RunningRelease = release };

        if (kernel.SignaturesEnforced && module.Signature is null)
            return new ModuleWouldBeRefusedException(module.Name, module.Path, RefusalReason.UnsignedWhileEnforced,
                $"{module.Name} is not signed, and this kernel only loads signed modules (module.sig_enforce=1, or Secure Boot lockdown).");

        var resolver = new SymbolProviderResolver(kernel, tree?.KernelVersion == release ? tree : null, release);
        if (!resolver.UsesRunningKernel || resolver.RunningKernelExportCount < PlausibleKernelExports)
            return null;
        var missing = new List<(string Symbol, SymbolProvider Provider)>();
        foreach (var need in module.RequiredSymbols)
        {
            if (need.IsWeak || Bookkeeping.Contains(need.Name))
                continue;
            var provider = resolver.Resolve(need.Name);
            if (provider.Kind is not (SymbolProviderKind.Kernel or SymbolProviderKind.LoadedModule))
                missing.Add((need.Name, provider));
        }
        if (missing.Count == 0)
            return null;
        var providers = missing.Where(m => m.Provider.Module is not null).Select(m => m.Provider.Module!).Distinct().ToList();
        var nobody = missing.Where(m => m.Provider.Module is null).Select(m => m.Symbol).ToList();
        var text = $"{module.Name} needs {missing.Count} symbol{(missing.Count == 1 ? "" : "s")} that no loaded module exports, e.g. {missing[0].Symbol}";
        if (providers.Count > 0)
            text += $"; {(nobody.Count > 0 ? "some are" : "they are")} exported by {string.Join(", ", providers.Select(p => p + ".ko"))} (not loaded).";
        if (nobody.Count > 0)
            text += $"{(providers.Count > 0 ? " " : "; ")}No installed module exports {string.Join(", ", nobody.Take(5))}{(nobody.Count > 5 ? $" and {nobody.Count - 5} more" : "")}.";
        return new ModuleWouldBeRefusedException(module.Name, module.Path, RefusalReason.MissingSymbols, text)
        {
            MissingSymbols = missing.Select(m => m.Symbol).ToList(),
            Providers = providers,
            Unprovided = nobody,
        };
    }
}
