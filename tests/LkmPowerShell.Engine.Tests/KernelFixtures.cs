namespace LkmPowerShell.Engine.Tests;

/// <summary>
/// Debian's real kernels, unpacked by tests/fixtures/get-debian-kernels.sh into a cache outside
/// the repository, with kmod 30's depmod output written into each tree as the oracle.
/// A missing cache fails the test that needs it, loudly: these tests are never skipped.
/// </summary>
public static class KernelFixtures
{
    public static string CacheDirectory =>
        Environment.GetEnvironmentVariable("LKM_FIXTURES") is { Length: > 0 } dir ? dir : "/var/cache/lkmpowershell";

    /// <summary>6.1.0-NN-amd64: about 4,000 uncompressed, signed modules.</summary>
    public static KernelFixture Plain => Load("plain");

    /// <summary>6.12.NNN+deb12-amd64: about 4,200 xz-compressed modules.</summary>
    public static KernelFixture Xz => Load("xz");

    public static IEnumerable<object[]> Both() => new[] { new object[] { "plain" }, new object[] { "xz" } };

    public static KernelFixture Load(string flavour)
    {
        var list = Path.Combine(CacheDirectory, "kernels.txt");
        if (!File.Exists(list))
            throw new InvalidOperationException(
                $"The kernel fixtures are missing ({list} does not exist). Run 'bash tests/fixtures/get-debian-kernels.sh' " +
                "(or set LKM_FIXTURES to where they are); the real-module tests cannot run without them.");
        foreach (var line in File.ReadAllLines(list))
        {
            var parts = line.Split(' ', 2);
            if (parts.Length == 2 && parts[0] == flavour)
                return new KernelFixture(flavour, parts[1], Path.Combine(CacheDirectory, parts[1], "root"));
        }
        throw new InvalidOperationException($"{list} names no '{flavour}' kernel.");
    }
}

public sealed record KernelFixture(string Flavour, string Version, string Root)
{
    public string ModulesDirectory => Path.Combine(Root, "lib/modules", Version);

    public IEnumerable<string> ModuleFiles() =>
        Directory.EnumerateFiles(Path.Combine(ModulesDirectory, "kernel"), "*.ko*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal);
}
