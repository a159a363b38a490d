using LkmPowerShell.Engine;
using Xunit;

namespace LkmPowerShell.Engine.Tests;

public class NameSuggestionsTests
{
    [Theory]
    [InlineData("msdso", "msdos", 1)]      // a transposition is one edit
    [InlineData("msdos", "msdos", 0)]
    [InlineData("fat", "vfat", 1)]
    [InlineData("ext4", "ext2", 1)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "abc", 3)]
    [InlineData("ca", "abc", 3)]           // OSA, not unrestricted Damerau-Levenshtein (which says 2)
    public void Distance_is_the_optimal_string_alignment_distance(string a, string b, int expected)
    {
        Assert.Equal(expected, NameSuggestions.Distance(a, b, 10));
        Assert.Equal(expected, NameSuggestions.Distance(b, a, 10));
    }

    [Fact]
    public void Distance_stops_at_the_limit()
    {
        Assert.Equal(3, NameSuggestions.Distance("snd_hda_intel", "nf_conntrack", 2));
        Assert.Equal(2, NameSuggestions.Distance("abcdef", "abcxyzqq", 1)); // length alone rules it out
    }

    [Fact]
    public void Nearest_names_the_closest_first_and_never_the_name_itself()
    {
        var installed = new[] { "msdos", "vfat", "fat", "isofs", "msdos", "udf", "mdio" };
        Assert.Equal(["msdos", "mdio"], NameSuggestions.Nearest("msdso", installed));
        Assert.Equal(["vfat"], NameSuggestions.Nearest("vfta", installed)); // fat is 2 edits away: too many for 4 letters
        Assert.Empty(NameSuggestions.Nearest("nf_conntrack", installed));
        Assert.DoesNotContain("fat", NameSuggestions.Nearest("fat", installed));
    }

    [Fact]
    public void Long_names_fall_back_to_the_heap()
    {
        var name = new string('a', 400);
        Assert.Equal(1, NameSuggestions.Distance(name, name[..399] + "b", 3));
    }
}
