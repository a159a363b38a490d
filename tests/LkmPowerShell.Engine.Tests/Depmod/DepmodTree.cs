using System.Diagnostics;
using LkmPowerShell.Engine.Depmod;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>
/// A small module tree in a temporary root, for running kmod's depmod and the engine on the same
/// files. kmod writes into the tree (depmod -b ROOT), the engine into a separate output root, and
/// <see cref="AssertSameAsKmod"/> compares every file kmod 30 writes.
/// </summary>
internal sealed class DepmodTree : IDisposable
{
    private readonly TempDirectory _temp = new();

    public DepmodTree(string version = "6.1.0-56-amd64")
    {
        Version = version;
        Directory.CreateDirectory(ModulesDirectory);
    }

    public string Version { get; }
    public string Root => Path.Combine(_temp.Path, "root");
    public string OutputRoot => Path.Combine(_temp.Path, "out");
    public string ModulesDirectory => Path.Combine(Root, "lib/modules", Version);
    public string OutputDirectory => Path.Combine(OutputRoot, "lib/modules", Version);
    public string ConfigDirectory => Path.Combine(Root, "etc/depmod.d");

    /// <summary>Copies a module of Debian's 6.1 tree (relative path there) to a relative path here.</summary>
    public DepmodTree Copy(string fixturePath, string? to = null)
    {
        var target = Path.Combine(ModulesDirectory, to ?? fixturePath);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Path.Combine(KernelFixtures.Plain.ModulesDirectory, fixturePath), target, overwrite: true);
        return this;
    }

    /// <summary>Copies a module of the synthetic tree (relative path there) to a relative path here: no fixture needed.</summary>
    public DepmodTree Synthetic(string syntheticPath, string? to = null)
    {
        var target = Path.Combine(ModulesDirectory, to ?? syntheticPath);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Path.Combine(TestKit.SyntheticTree.Shared.ModulesDirectory, syntheticPath), target, overwrite: true);
        return this;
    }

    /// <summary>The synthetic tree's modules.builtin and modules.builtin.modinfo.</summary>
    public DepmodTree WithSyntheticBuiltins()
    {
        foreach (var name in new[] { "modules.builtin", "modules.builtin.modinfo" })
            File.Copy(Path.Combine(TestKit.SyntheticTree.Shared.ModulesDirectory, name), Path.Combine(ModulesDirectory, name), overwrite: true);
        return this;
    }

    public DepmodTree Write(string relativePath, byte[] content)
    {
        var target = Path.Combine(ModulesDirectory, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.WriteAllBytes(target, content);
        return this;
    }

    public DepmodTree Write(string relativePath, string text) => Write(relativePath, System.Text.Encoding.Latin1.GetBytes(text));

    public DepmodTree Config(string fileName, string text)
    {
        Directory.CreateDirectory(ConfigDirectory);
        File.WriteAllText(Path.Combine(ConfigDirectory, fileName), text);
        return this;
    }

    /// <summary>The fixture's modules.builtin and modules.builtin.modinfo.</summary>
    public DepmodTree WithBuiltins()
    {
        foreach (var name in new[] { "modules.builtin", "modules.builtin.modinfo" })
            File.Copy(Path.Combine(KernelFixtures.Plain.ModulesDirectory, name), Path.Combine(ModulesDirectory, name), overwrite: true);
        return this;
    }

    public DepmodResult RunEngine(Func<DepmodOptions, DepmodOptions>? adjust = null)
    {
        var options = new DepmodOptions { Root = new SystemRoot(Root), KernelVersion = Version, OutputRoot = OutputRoot, UseCache = false };
        return DepmodRunner.Run(adjust is null ? options : adjust(options));
    }

    /// <summary>kmod's depmod on the tree, configured from the tree's etc/depmod.d; returns its exit code and stderr.</summary>
    public (int ExitCode, string Stderr) RunKmod(params string[] extra)
    {
        var psi = new ProcessStartInfo(ModuleFiles.CodecTools.Find("depmod")) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-b", Root, "-C", ConfigDirectory }.Concat(extra).Append(Version))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stderr.Result);
    }

    /// <summary>Runs both and compares every file kmod wrote, byte for byte; returns both runs.</summary>
    public (DepmodResult Engine, string KmodStderr) AssertSameAsKmod(Func<DepmodOptions, DepmodOptions>? adjust = null, params string[] kmodArguments)
    {
        var engine = RunEngine(adjust);
        var (code, stderr) = RunKmod(kmodArguments);
        Assert.True(code == 0, $"kmod's depmod failed ({code}): {stderr}");
        foreach (var name in FullTreeTests.KmodFiles)
            FullTreeTests.AssertSameBytes(Path.Combine(ModulesDirectory, name), Path.Combine(OutputDirectory, name));
        return (engine, stderr);
    }

    public string KmodFile(string name) => File.ReadAllText(Path.Combine(ModulesDirectory, name));
    public string EngineFile(string name) => File.ReadAllText(Path.Combine(OutputDirectory, name));

    public void Dispose() => _temp.Dispose();
}
