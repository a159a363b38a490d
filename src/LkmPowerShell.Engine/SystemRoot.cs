namespace LkmPowerShell.Engine;

/// <summary>
/// Every path the engine reads goes through one root, like <c>depmod -b</c> and
/// <c>modprobe -d</c>: "/" for the running system, a folder for an offline image or a test fixture.
/// </summary>
public sealed class SystemRoot
{
    public static SystemRoot Host { get; } = new("/");

    public SystemRoot(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The root folder, absolute.</summary>
    public string Path { get; }

    public bool IsHost => Path == "/";

    /// <summary>Maps an absolute system path such as "/proc/modules" under the root.</summary>
    public string Resolve(string systemPath)
    {
        if (!systemPath.StartsWith('/'))
            throw new ArgumentException($"'{systemPath}' is not an absolute system path.", nameof(systemPath));
        return IsHost ? systemPath : System.IO.Path.Join(Path, systemPath);
    }

    /// <summary>/lib/modules/&lt;version&gt; under the root.</summary>
    public string ModulesDirectory(string kernelVersion) => Resolve("/lib/modules/" + kernelVersion);

    public override string ToString() => Path;
}
