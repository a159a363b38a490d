using LkmPowerShell.Engine.Kernel;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Kernel;

public class KernelTaintTests
{
    [Theory]
    [InlineData(0UL, "")]
    [InlineData(1UL, "P")]
    [InlineData(12288UL, "OE")]                 // out-of-tree and unsigned: a module of one's own
    [InlineData(78UL, "FSRU")]                  // what this build machine's kernel reported
    [InlineData((1UL << 20) - 1, "PFSRMBUDAWCIOELKXTNJ")]
    [InlineData((1UL << 40) | 512UL, "W?")]
    public void LettersFollowTheKernelsTable(ulong value, string letters)
    {
        var t = KernelTaint.FromValue(value);
        Assert.Equal(letters, t.Letters);
        Assert.Equal(value != 0, t.IsTainted);
        Assert.Equal(letters.Length, t.Reasons.Count);
    }

    [Fact]
    public void FlagsAndParse()
    {
        var t = KernelTaint.Parse("12288\n");
        Assert.Equal(KernelTaintFlags.OutOfTreeModule | KernelTaintFlags.UnsignedModule, t.Flags);
        Assert.Equal("OE (12288)", t.ToString());
        Assert.Equal("Not tainted", KernelTaint.FromValue(0).ToString());
        Assert.Throws<FormatException>(() => KernelTaint.Parse("lots"));
    }
}
