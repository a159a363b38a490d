using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Tests.Kernel;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Configuration;

/// <summary>Setting parameters against a fabricated /sys: the checks before writing, and the write itself.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class ModuleParameterWriterTests
{
    private static FakeKernelRoot Sys()
    {
        var fake = new FakeKernelRoot().LoadedModule("nf_conntrack", parameters: new Dictionary<string, string>
        {
            ["hashsize"] = "1024", ["expect_hashsize"] = "256", ["acct"] = "N",
        });
        File.SetUnixFileMode(fake.Root.Resolve("/sys/module/nf_conntrack/parameters/expect_hashsize"), UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return fake;
    }

    [Fact]
    public void AWritableParameterIsWrittenWithOldAndNewValues()
    {
        using var fake = Sys();
        var change = new ModuleParameterWriter(fake.Root).Set("nf-conntrack", "hashsize", "16384", "uint");
        Assert.Equal(("nf_conntrack", "hashsize", "1024", "16384", true), (change.Module, change.Parameter, change.OldValue, change.NewValue, change.Changed));
        Assert.Equal("16384", File.ReadAllText(fake.Root.Resolve("/sys/module/nf_conntrack/parameters/hashsize")));
    }

    [Fact]
    public void TheSameValueWritesNothing()
    {
        using var fake = Sys();
        var path = fake.Root.Resolve("/sys/module/nf_conntrack/parameters/hashsize");
        File.WriteAllText(path, "1024\n");
        var change = new ModuleParameterWriter(fake.Root).Set("nf_conntrack", "hashsize", "1024", "uint");
        Assert.False(change.Changed);
        Assert.Equal("1024\n", File.ReadAllText(path));
    }

    [Fact]
    public void ReadOnlyUnknownAndNotLoadedAreRefusedWithTheirReason()
    {
        using var fake = Sys();
        var writer = new ModuleParameterWriter(fake.Root);
        var ro = Assert.Throws<ParameterChangeException>(() => writer.Set("nf_conntrack", "expect_hashsize", "512", "uint"));
        Assert.Equal(ParameterChangeFailure.ReadOnly, ro.Reason);
        Assert.Contains("0444", ro.Message);
        Assert.Equal("256\n", File.ReadAllText(fake.Root.Resolve("/sys/module/nf_conntrack/parameters/expect_hashsize")));

        var unknown = Assert.Throws<ParameterChangeException>(() => writer.Set("nf_conntrack", "nosuch", "1", null));
        Assert.Equal(ParameterChangeFailure.UnknownParameter, unknown.Reason);
        Assert.Contains("acct, expect_hashsize, hashsize", unknown.Message);

        Assert.Equal(ParameterChangeFailure.ModuleNotLoaded, Assert.Throws<ParameterChangeException>(() => writer.Set("dummy", "numdummies", "1", null)).Reason);
        Assert.Equal(ParameterChangeFailure.UnknownParameter, Assert.Throws<ParameterChangeException>(() => writer.Set("nf_conntrack", "../refcnt", "1", null)).Reason);
    }

    [Fact]
    public void PlanRefusesWhatSetRefusesAndWritesNothing()
    {
        // A dry run (-WhatIf) must not approve what the real run refuses: undeclared, read-only, ill-typed.
        using var fake = Sys();
        var writer = new ModuleParameterWriter(fake.Root);
        Assert.Equal(ParameterChangeFailure.ReadOnly, Assert.Throws<ParameterChangeException>(() => writer.Plan("nf_conntrack", "expect_hashsize", "512", "uint")).Reason);
        Assert.Equal(ParameterChangeFailure.InvalidValue, Assert.Throws<ParameterChangeException>(() => writer.Plan("nf_conntrack", "hashsize", "-1", "uint")).Reason);
        Assert.Equal(ParameterChangeFailure.UnknownParameter, Assert.Throws<ParameterChangeException>(() => writer.Plan("nf_conntrack", "nosuch", "1", null)).Reason);
        Assert.Equal(ParameterChangeFailure.ModuleNotLoaded, Assert.Throws<ParameterChangeException>(() => writer.Plan("dummy", "numdummies", "1", null)).Reason);

        var plan = writer.Plan("nf-conntrack", "hashsize", "16384", "uint");
        Assert.Equal(("nf_conntrack", "hashsize", "1024", "16384", true), (plan.Module, plan.Parameter, plan.OldValue?.Trim(), plan.NewValue, plan.Changed));
        Assert.EndsWith("/sys/module/nf_conntrack/parameters/hashsize", plan.Path);
        Assert.Equal("1024\n", File.ReadAllText(fake.Root.Resolve("/sys/module/nf_conntrack/parameters/hashsize")));
    }

    [Fact]
    public void AValueOfTheWrongTypeIsRefusedBeforeWriting()
    {
        using var fake = Sys();
        var writer = new ModuleParameterWriter(fake.Root);
        var e = Assert.Throws<ParameterChangeException>(() => writer.Set("nf_conntrack", "hashsize", "-1", "uint"));
        Assert.Equal(ParameterChangeFailure.InvalidValue, e.Reason);
        Assert.Contains("negative", e.Message);
        Assert.Equal("1024\n", File.ReadAllText(fake.Root.Resolve("/sys/module/nf_conntrack/parameters/hashsize")));
        Assert.Equal(ParameterChangeFailure.InvalidValue, Assert.Throws<ParameterChangeException>(() => writer.Set("nf_conntrack", "acct", "maybe", "bool")).Reason);
    }

    [Theory]
    [InlineData("int", "-2147483648", true)]
    [InlineData("int", "2147483648", false)]
    [InlineData("uint", "0x10", true)]
    [InlineData("uint", "010", true)]
    [InlineData("uint", "09", false)]
    [InlineData("byte", "256", false)]
    [InlineData("ushort", "65535\n", true)]
    [InlineData("long", "abc", false)]
    [InlineData("bool", "Y", true)]
    [InlineData("bool", "off", true)]
    [InlineData("invbool", "x", false)]
    [InlineData("array of int", "1,-2,0x3", true)]
    [InlineData("array of int", "1,,2", false)]
    [InlineData("charp", "anything at all", true)]
    [InlineData(null, "unchecked", true)]
    [InlineData("somethingnew", "unchecked", true)]
    public void ValuesAreCheckedAsTheKernelParsesThem(string? type, string value, bool fits) =>
        Assert.Equal(fits, ParameterValueCheck.Problem(type, value) is null);

    [Fact]
    public void TypesComeFromTheModuleFileOrBuiltinModinfo()
    {
        var tree = TestKit.SyntheticTree.Shared.Tree;
        Assert.Equal("uint", ModuleParameterWriter.TypeOf(tree, "lkm_params", "p_uint"));
        Assert.Null(ModuleParameterWriter.TypeOf(tree, "lkm_params", "p_untyped")); // module_param_call: no parmtype, the kernel's setter checks
        Assert.Equal("uint", ModuleParameterWriter.TypeOf(tree, "zswap", "max_pool_percent")); // a built-in's, from modules.builtin.modinfo
        Assert.Equal("int", ModuleParameterWriter.TypeOf(tree, "dummy", "numdummies"));
        Assert.Null(ModuleParameterWriter.TypeOf(tree, "dummy", "nosuch"));
        Assert.Null(ModuleParameterWriter.TypeOf(null, "dummy", "numdummies"));
    }
}
