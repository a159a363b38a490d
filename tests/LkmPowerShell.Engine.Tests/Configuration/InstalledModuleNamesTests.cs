using Xunit;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Tests.TestKit;

namespace LkmPowerShell.Engine.Tests.Configuration;

/// <summary>
/// A hardening list's typo ("usb-storgae") is still written, but no installed kernel knows it: the
/// check that says so, and the names it suggests, on the synthetic tree.
/// </summary>
public sealed class InstalledModuleNamesTests
{
    private static SystemRoot Root => new(SyntheticTree.Shared.Root);

    [Theory]
    [InlineData("usb-storage")]  // a module, spelled as its file is
    [InlineData("usb_storage")]  // the same, as the kernel names it
    [InlineData("unix")]         // built in
    [InlineData("fs-cramfs")]    // an alias
    [InlineData("net-pf-1")]     // a built-in module's alias
    public void ANameSomeKernelKnowsIsNoWarning(string name) =>
        Assert.Null(InstalledModuleNames.Check(Root, name));

    [Fact]
    public void ATypoIsUnknownWithTheNearestNameAsTheUserSpellsIt()
    {
        var unknown = InstalledModuleNames.Check(Root, "usb-storgae");
        Assert.NotNull(unknown);
        Assert.Equal([SyntheticTree.Shared.Version], unknown.KernelVersions);
        Assert.Equal(["usb-storage"], unknown.Nearest);
        Assert.Equal(["usb_storage"], InstalledModuleNames.Check(Root, "usb_storgae")!.Nearest);
        Assert.Empty(InstalledModuleNames.Check(Root, "qqqqqqqqqqqqqqqq")!.Nearest);
    }

    [Fact]
    public void WithoutAnInstalledKernelThereIsNothingToJudgeBy()
    {
        var empty = Directory.CreateTempSubdirectory("lkm-names-");
        try
        {
            Assert.Null(InstalledModuleNames.Check(new SystemRoot(empty.FullName), "usb-storgae"));
            Assert.Null(InstalledModuleNames.Check(Root, "../etc/passwd"));
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }
}
