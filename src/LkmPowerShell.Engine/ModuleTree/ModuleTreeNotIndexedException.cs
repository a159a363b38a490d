namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>
/// A question only depmod's index answers (what a module needs, who exports a symbol) was asked of
/// a tree depmod has not indexed, such as a freshly unpacked kernel package: its answer is unknown,
/// never "none". A <see cref="FileNotFoundException"/> for the index file, so a caller that reports
/// missing files reports this one too.
/// </summary>
public sealed class ModuleTreeNotIndexedException : FileNotFoundException
{
    public ModuleTreeNotIndexedException(ModuleDirectory directory, string indexFile, string question)
        : base($"{directory.Path} has no {indexFile}: depmod has not indexed this tree, so {question} is not known.", System.IO.Path.Join(directory.Path, indexFile))
    {
        Directory = directory.Path;
        KernelVersion = directory.KernelVersion;
        RootPath = directory.Root.Path;
    }

    /// <summary>The tree, /lib/modules/&lt;version&gt; under the root.</summary>
    public string Directory { get; }
    public string KernelVersion { get; }

    /// <summary>The root the tree is under ("/" for this machine).</summary>
    public string RootPath { get; }
}
