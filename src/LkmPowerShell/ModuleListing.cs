using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;

namespace LkmPowerShell;

/// <summary>The listing work behind Get-KernelModule's Loaded and ListAvailable sets.</summary>
internal static class ModuleListing
{
    public static void WriteLoaded(PSCmdlet cmdlet, SystemRoot root, string[]? names, bool includeBuiltin)
    {
        var kernel = new RunningKernel(root);
        var patterns = new ModuleNamePatterns(names);
        if (!kernel.SupportsModules)
        {
            cmdlet.WriteError(new ErrorRecord(new KernelModulesUnsupportedException(kernel.Release, kernel.ProcModules.Path, kernel.ModulesUnsupportedReason),
                "KernelModulesUnsupported", ErrorCategory.NotImplemented, kernel.Release ?? root.Path));
            if (!includeBuiltin)
                return;
        }
        else
        {
            foreach (var m in kernel.GetLoadedModules())
                if (patterns.Match(m.Name))
                    cmdlet.WriteObject(new LoadedKernelModule(m));
        }
        if (includeBuiltin)
            foreach (var m in kernel.GetBuiltinModules())
                if (patterns.Match(m.Name))
                    cmdlet.WriteObject(new LoadedKernelModule(m));
        if (kernel.SupportsModules || includeBuiltin)
            foreach (var name in patterns.UnmatchedLiterals())
                cmdlet.WriteError(new ErrorRecord(new ItemNotFoundException($"No loaded module is named '{name}'. Get-KernelModule -ListAvailable -Name '{name}' shows whether it is installed; Import-KernelModule loads it."),
                    "ModuleNotLoaded", ErrorCategory.ObjectNotFound, name));
    }

    public static void WriteAvailable(PSCmdlet cmdlet, SystemRoot root, string? kernelVersion, string[]? names, bool includeBuiltin = false)
    {
        var directory = ModuleTrees.Open(cmdlet, root, kernelVersion);
        if (directory is null)
            return;
        var patterns = new ModuleNamePatterns(names);
        var selected = directory.Modules().Where(m => patterns.Match(m.Name)).ToList();
        // Whether each module is disabled or blacklisted, and by which file and line: read once.
        var config = Engine.Planner.ModprobeConfig.Load(root, directory);

        // Reading is the cost (decompression above all): two files at a time, written in order.
        var progress = new ProgressRecord(1, "Get-KernelModule", $"Reading the modules of {directory.KernelVersion}");
        var done = 0;
        var results = selected.AsParallel().AsOrdered().WithDegreeOfParallelism(Math.Max(2, Environment.ProcessorCount))
            .Select(m => ReadOne(m.Path, root));
        foreach (var (file, error, path) in results)
        {
            if (file is not null)
            {
                if (file.SymbolProblem is { } damage)
                    cmdlet.WriteWarning($"{file.Path}: {damage}; its .modinfo is shown, its symbols are not.");
                cmdlet.WriteObject(file.WithLoadBlock(Engine.Configuration.ModuleLoadBlock.Of(config, file.Name)));
            }
            else
                cmdlet.WriteError(ErrorRecords.ForModuleFile(error!, path));
            if (selected.Count > 100 && ++done % 100 == 0)
            {
                progress.PercentComplete = done * 100 / selected.Count;
                cmdlet.WriteProgress(progress);
            }
        }
        if (selected.Count > 100)
        {
            progress.RecordType = ProgressRecordType.Completed;
            cmdlet.WriteProgress(progress);
        }
        foreach (var builtin in BuiltinModules(directory, patterns, includeBuiltin))
            cmdlet.WriteObject(new KernelModuleFile(builtin));
        foreach (var name in patterns.UnmatchedLiterals())
            cmdlet.WriteError(new ErrorRecord(new ItemNotFoundException($"No module named '{name}' is installed for kernel {directory.KernelVersion} under {root} ({directory.Path})."),
                "ModuleNotInstalled", ErrorCategory.ObjectNotFound, name));
    }

    /// <summary>
    /// Modules built into the kernel have no file, but modinfo shows their modules.builtin.modinfo
    /// records: one named exactly (and not installed) is shown, as modinfo shows it; by wildcard or
    /// in a whole listing, only with -IncludeBuiltin, because -ListAvailable lists what can be
    /// loaded, as kmod lists nothing for them.
    /// </summary>
    private static IEnumerable<BuiltinModuleInfo> BuiltinModules(Engine.ModuleTree.ModuleDirectory directory, ModuleNamePatterns patterns, bool includeBuiltin)
    {
        var candidates = includeBuiltin ? directory.BuiltinModules() : [.. patterns.UnmatchedLiterals()];
        foreach (var name in candidates)
            if (directory.FindBuiltinModule(name) is { } builtin && patterns.Match(builtin.Name))
                yield return builtin;
    }

    private static (KernelModuleFile? File, Exception? Error, string Path) ReadOne(string path, SystemRoot root)
    {
        try
        {
            return (new KernelModuleFile(ModuleFileReader.Read(path, root)), null, path);
        }
        catch (Exception e) when (ErrorRecords.IsModuleFileFailure(e))
        {
            return (null, e, path);
        }
    }
}
