namespace LkmPowerShell.Engine.Tests;

/// <summary>
/// Debian's real kernels, unpacked by tests/fixtures/get-debian-kernels.sh into a cache outside
/// the repository, with kmod 30's depmod output written into each tree as the oracle. Only the
/// oracle layer ([Trait("Layer", "Oracle")]) reads them; the rest runs on the synthetic tree.
/// A missing cache fails the test that needs it, loudly, locally as in CI: these tests are never
/// skipped. The first failure names the command that fetches the fixtures; the others refer to it,
/// so a run without fixtures says it once and not a few hundred times.
/// </summary>
public static class KernelFixtures
{
    public const string FetchCommand = "sudo dotnet pwsh -NoProfile -File ./build.ps1 Fixtures";

    private static int _missingReported;

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
            throw new InvalidOperationException(Interlocked.Exchange(ref _missingReported, 1) == 0
                ? $"The kernel fixtures are missing ({list} does not exist): the oracle layer compares with kmod on Debian's " +
                  $"real trees and cannot run without them. Fetch them with '{FetchCommand}' (or set LKM_FIXTURES to where they are); " +
                  "without them, run the hermetic layer: dotnet test tests/LkmPowerShell.Engine.Tests --filter \"Layer!=Oracle\"."
                : $"The kernel fixtures are missing ({list}): see the first such failure for the command that fetches them.");
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
