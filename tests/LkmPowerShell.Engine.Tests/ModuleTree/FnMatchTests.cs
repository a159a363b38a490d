using Xunit;
using System.Runtime.InteropServices;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell.Engine.Tests.ModuleTree;

public class FnMatchTests
{
    [Theory]
    [InlineData("pci:v00008086d*sv*", "pci:v00008086d000010D3sv00001234", true)]
    [InlineData("pci:v00008086d*sv*", "pci:v00008087d000010D3sv00001234", false)]
    [InlineData("*", "", true)]
    [InlineData("?", "", false)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a*", "a/b", true)] // no FNM_PATHNAME: '*' crosses '/'
    [InlineData("*", ".hidden", true)] // no FNM_PERIOD
    [InlineData("[abc]x", "bx", true)]
    [InlineData("[a-c]x", "dx", false)]
    [InlineData("[!a-c]x", "dx", true)]
    [InlineData("[^a-c]x", "ax", false)]
    [InlineData("[]]", "]", true)]
    [InlineData("[!]]", "a", true)]
    [InlineData("[a-]", "-", true)]
    [InlineData("[", "[", true)] // unterminated bracket: a literal '['
    [InlineData("[ab", "[ab", true)]
    [InlineData("\\*", "*", true)]
    [InlineData("\\*", "a", false)]
    [InlineData("a\\", "a\\", false)] // glibc: a trailing backslash never matches
    [InlineData("[[:digit:]]x", "7x", true)]
    [InlineData("[[:alpha:]]", "7", false)]
    [InlineData("[[:bogus:]]", "a", false)]
    [InlineData("usb:v*p*d*dc*dsc*dp*ic09isc*ip*in*", "usb:v1D6Bp0002d0515dc09dsc00dp01ic09isc00ip00in00", true)]
    [InlineData("dmi*:svnLENOVO*:pvrThinkPad*", "dmi:bvnLENOVO:svnLENOVO:pvrThinkPadX1:", true)]
    [InlineData("a*b*c*d*e*f*g*h*i*j*k", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    public void MatchesLikeGlibc(string pattern, string text, bool expected)
    {
        Assert.Equal(expected, FnMatch.IsMatch(pattern, text));
        Assert.Equal(expected, Glibc.FnMatch(pattern, text)); // the table itself is checked against glibc
    }

    /// <summary>Thousands of random patterns from a hostile alphabet against glibc's own fnmatch.</summary>
    [Fact]
    public void AgreesWithGlibcOnRandomPatterns()
    {
        var random = new Random(20261125);
        const string alphabet = "ab-*?[]!^\\:c";
        string Next(int max) => new([.. Enumerable.Range(0, random.Next(max)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
        var disagreements = new List<string>();
        for (var i = 0; i < 20000; i++)
        {
            var pattern = Next(9);
            var text = Next(7).Replace("\\", "");
            if (FnMatch.IsMatch(pattern, text) != Glibc.FnMatch(pattern, text))
                disagreements.Add($"fnmatch('{pattern}', '{text}') glibc={Glibc.FnMatch(pattern, text)}");
        }
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements.Take(20)));
    }

    [Fact]
    public void IsLinearOnPathologicalInput()
    {
        var pattern = string.Concat(Enumerable.Repeat("*a", 2000)) + "b";
        var text = new string('a', 20000);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(FnMatch.IsMatch(pattern, text));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    private static partial class Glibc
    {
        [DllImport("libc", EntryPoint = "fnmatch", CharSet = CharSet.Ansi)]
        private static extern int NativeFnMatch(string pattern, string text, int flags);

        public static bool FnMatch(string pattern, string text) => NativeFnMatch(pattern, text, 0) == 0;
    }
}
