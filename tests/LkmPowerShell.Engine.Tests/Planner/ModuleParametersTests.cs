using System.Collections;
using LkmPowerShell.Engine.Planner;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Planner;

public class ModuleParametersTests
{
    [Fact]
    public void ParsesAStringRespectingQuotes()
    {
        var p = ModuleParameters.Parse("io=0x300  irq=11 name=\"a b\" flag\tmsg=\"x\"y");
        Assert.Equal([new("io", "0x300"), new("irq", "11"), new("name", "a b"), new("flag", null), new("msg", "xy")], p);
        Assert.Equal("io=0x300 irq=11 name=\"a b\" flag msg=xy", ModuleParameters.Format(p));
    }

    [Theory]
    [InlineData("a=\"open")]
    [InlineData("=1")]
    [InlineData("a=\"bell\u0007\"")]
    public void RefusesWhatTheKernelCannotParse(string text) => Assert.Throws<FormatException>(() => ModuleParameters.Parse(text));

    [Fact]
    public void BuildsFromAHashtable()
    {
        var table = new System.Collections.Specialized.OrderedDictionary { ["numdummies"] = 3, ["debug"] = true, ["ids"] = new[] { 1, 2 }, ["name"] = "two words", ["flag"] = null };
        Assert.Equal("numdummies=3 debug=1 ids=1,2 name=\"two words\" flag", ModuleParameters.Format(ModuleParameters.FromDictionary((IDictionary)table)));
        Assert.Throws<FormatException>(() => ModuleParameters.FromDictionary(new Hashtable { ["bad name"] = 1 }));
    }
}
