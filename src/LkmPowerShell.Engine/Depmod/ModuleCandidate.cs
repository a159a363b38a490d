namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// A module file depmod will index. <see cref="KmodPath"/> is the path as kmod holds it (the
/// modules folder's real path + "/" + relative path, or for an external folder the path its
/// depmod.d line gave), as a byte string; <see cref="RelativePath"/> is what modules.dep prints
/// for files inside the modules folder.
/// </summary>
internal sealed class ModuleCandidate
{
    public required string FilePath { get; init; }
    public required string KmodPath { get; init; }
    public required string? RelativePath { get; init; }
    public required string Name { get; init; }
    public required FileIdentity? Identity { get; init; }

    /// <summary>Position of the last "/" in <see cref="KmodPath"/>.</summary>
    public int LastSlash => KmodPath.LastIndexOf('/');

    /// <summary>kmod's uncrelpath: the relative path cut after the name plus ".ko" (the form modules.order uses).</summary>
    public string? UncompressedRelativePath
    {
        get
        {
            if (RelativePath is null) return null;
            var slash = RelativePath.LastIndexOf('/');
            var length = Math.Min(RelativePath.Length, slash + 1 + Name.Length + 3);
            return RelativePath[..length];
        }
    }

    /// <summary>What modules.dep prints for this module.</summary>
    public string OutputPath => RelativePath ?? KmodPath;

    public override string ToString() => KmodPath;
}
