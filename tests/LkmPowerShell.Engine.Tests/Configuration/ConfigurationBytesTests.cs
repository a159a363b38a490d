using System.Text;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Planner;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Configuration;

/// <summary>
/// modprobe.d read as kmod reads it, byte for byte: Latin-1 bytes (not UTF-8) are kept, printed
/// and run as they are; a NUL ends its line; only C's white space separates softdep names. kmod
/// 30's <c>modprobe -c</c> is the judge: its stdout is compared as bytes (KmodOracle reads Latin-1).
/// </summary>
public sealed class ConfigurationBytesTests : IDisposable
{
    private static readonly string HostCommandLine = File.Exists("/proc/cmdline") ? ByteText.FromBytes(File.ReadAllBytes("/proc/cmdline")) : "";
    private readonly string _root = Directory.CreateTempSubdirectory("lkm-config-bytes-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Writes <paramref name="bytes"/> as the root's only modprobe.d file; returns (ours, kmod's) stdout as byte strings.</summary>
    private (string Ours, string Kmod) Both(byte[] bytes)
    {
        var dir = Path.Combine(_root, "etc/modprobe.d");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "test.conf"), bytes);
        var config = ModprobeConfig.LoadFrom([dir], null, HostCommandLine, new SystemRoot(_root));
        var ours = ByteText.FromBytes(EffectiveConfiguration.ToModprobeBytes(EffectiveConfiguration.Entries(config)));
        var kmod = KmodOracle.Run("modprobe", ["-c", "-C", dir, "-d", _root], allowFailure: true);
        return (ours, kmod);
    }

    private static byte[] Bytes(params object[] parts)
    {
        var list = new List<byte>();
        foreach (var p in parts)
            list.AddRange(p switch { string s => Encoding.ASCII.GetBytes(s), byte b => [b], byte[] a => a, _ => throw new ArgumentException("part") });
        return [.. list];
    }

    [Fact]
    public void Latin1InstallCommandAndOptionsArePrintedAsKmodPrintsThem()
    {
        // "install foo echo été" in Latin-1: E9 is not UTF-8 on its own.
        var (ours, kmod) = Both(Bytes("install foo echo ", (byte)0xE9, "t", (byte)0xE9, "\noptions bar name=", (byte)0xFC, "ber\nalias caf", (byte)0xE9, " bar\n"));
        Assert.Contains("install foo echo \u00E9t\u00E9\n", kmod); // the oracle read the bytes (one char a byte)
        Assert.Equal(kmod, ours);
    }

    [Fact]
    public void NulEndsTheLineAsInKmod()
    {
        var (ours, kmod) = Both(Bytes(
            "install x /bin/true", (byte)0, "; rm -rf /tmp/nothing\n",
            "options m a=1", (byte)0, " b=2\n",
            (byte)0, "blacklist hidden\n",
            "alias a", (byte)0, "b \\\n c d\n",
            "blacklist after\n"));
        Assert.Contains("install x /bin/true\n", kmod);
        Assert.DoesNotContain("hidden", kmod);
        Assert.Equal(kmod, ours);
    }

    [Fact]
    public void OnlyCWhiteSpaceSeparatesSoftdepNames()
    {
        // 0xA0 and 0x85 are white space to .NET but not to C's isspace; \v and \f are to both.
        var (ours, kmod) = Both(Bytes("softdep a pre: b", (byte)0xA0, "c", (byte)0x85, "d post: e\vf\fg\n"));
        Assert.Contains("softdep a pre: b", kmod);
        Assert.Equal(kmod, ours);
    }

    [Fact]
    public void Utf8ConfigurationReadsAsTextAndKeepsItsBytes()
    {
        var utf8 = Encoding.UTF8.GetBytes("install foo echo été\n");
        var (ours, kmod) = Both(utf8);
        Assert.Equal(kmod, ours);
        var config = ModprobeConfig.ParseBytes(utf8);
        var text = EffectiveConfiguration.ToModprobeText(EffectiveConfiguration.Entries(config));
        Assert.StartsWith("install foo echo été\n", text); // people see the text, not one char a byte
    }

    [Fact]
    public void Latin1CommandRunsWithItsExactBytes()
    {
        var output = Path.Combine(_root, "out");
        var config = ModprobeConfig.ParseBytes(Bytes("install foo printf '%s|%s' \"$CMDLINE_OPTS\" ", (byte)0xE9, " > ", output, "\n"));
        var command = config.InstallCommandFor("foo")!.Command;
        var result = Engine.Loading.ModprobeCommandRunner.Run(command, new Dictionary<string, string> { ["CMDLINE_OPTS"] = ByteText.FromBytes([0x61, 0xFC]) }, TimeSpan.FromSeconds(30));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new byte[] { 0x61, 0xFC, (byte)'|', 0xE9 }, File.ReadAllBytes(output));
    }

    [Fact]
    public void Utf8CommandRunsWithItsExactBytes()
    {
        var output = Path.Combine(_root, "out8");
        var config = ModprobeConfig.ParseBytes(Encoding.UTF8.GetBytes($"install foo printf '%s' \"été\" > {output}\n"));
        var result = Engine.Loading.ModprobeCommandRunner.Run(config.InstallCommandFor("foo")!.Command, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(Encoding.UTF8.GetBytes("été"), File.ReadAllBytes(output));
    }

    private static readonly string Regressions = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../fuzz/regressions/modprobe-d"));

    public static TheoryData<string> RegressionInputs() => [.. Directory.EnumerateFiles(Regressions).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    /// <summary>
    /// The modprobe-c judge's findings, replayed against kmod: every input agrees byte for byte,
    /// except those named after one of kmod 30's faults (fuzz/regressions/README.md), which must
    /// still differ: kmod's fault is listed, not copied.
    /// </summary>
    [Theory]
    [MemberData(nameof(RegressionInputs))]
    public void FuzzFindingsAgreeWithKmodExceptItsListedFaults(string name)
    {
        var (ours, kmod) = Both(File.ReadAllBytes(Path.Combine(Regressions, name)));
        // continuation-at-eof.conf ends in a backslash: kmod 30 stores the EOF it reads next as byte 0xFF.
        if (name.StartsWith("kmod30-fault-", StringComparison.Ordinal) || name == "continuation-at-eof.conf")
            Assert.NotEqual(kmod, ours);
        else
            Assert.Equal(kmod, ours);
    }

    [Fact]
    public void SoftdepThatKmodMisreadsIsReadAndWarnedAbout()
    {
        var config = ModprobeConfig.Parse("softdep ksmbd  pre: nls\nsoftdep fat pre: nls_cp437\n");
        Assert.Equal(["nls"], config.SoftDependenciesFor("ksmbd")[0].Pre);
        var warning = Assert.Single(config.Warnings);
        Assert.Equal(1, warning.Source.Line);
        Assert.Contains("kmod 30 ignores the modules of this softdep line", warning.Message);
    }
}
