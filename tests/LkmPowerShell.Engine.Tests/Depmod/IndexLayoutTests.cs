using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Tests.ModuleTree;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>Both .bin layouts: the engine's reader takes them, and they hold the same entries.</summary>
[Trait("Layer", "Oracle")]
public class IndexLayoutTests
{
    private static readonly string[] BinFiles = ["modules.dep.bin", "modules.alias.bin", "modules.symbols.bin", "modules.builtin.bin", "modules.builtin.alias.bin"];

    [Fact]
    public void PreOrderAndPostOrderHoldTheSameEntries()
    {
        var kernel = KernelFixtures.Plain;
        DepmodPlan Plan(IndexLayout layout) => DepmodRunner.Compute(new DepmodOptions
        {
            Root = new SystemRoot(kernel.Root), KernelVersion = kernel.Version, ConfigPaths = [], UseCache = false, Layout = layout,
        });
        var post = Plan(IndexLayout.PostOrder).Files.ToDictionary(f => f.Name, f => f.Content);
        var pre = Plan(IndexLayout.PreOrder).Files.ToDictionary(f => f.Name, f => f.Content);
        foreach (var name in BinFiles)
        {
            Assert.Equal(post[name].Length, pre[name].Length);
            var postIndex = IndexFile.Parse(name, post[name]);
            var preIndex = IndexFile.Parse(name, pre[name]);
            var entries = postIndex.Enumerate().ToList();
            Assert.Equal(entries, preIndex.Enumerate().ToList());
            // The tests' independent writer, given the same entries, writes the same bytes in both layouts.
            Assert.Equal(post[name], IndexWriter.Write(entries, preOrder: false));
            Assert.Equal(pre[name], IndexWriter.Write(entries, preOrder: true));
            if (entries.Count > 0)
                Assert.Equal(12u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(pre[name].AsSpan(8)) & 0x0FFFFFFF);
        }
        var dep = IndexFile.Parse("modules.dep.bin", pre["modules.dep.bin"]);
        Assert.Equal("kernel/fs/fat/msdos.ko: kernel/fs/fat/fat.ko", dep.Lookup("msdos"));
        var alias = IndexFile.Parse("modules.alias.bin", pre["modules.alias.bin"]);
        Assert.Contains(alias.SearchWildcard("fs_msdos"), v => v.Value == "msdos");
    }

    [Fact]
    public void EmptyIndexIsTwelveBytes()
    {
        var builder = new IndexBuilder();
        var bytes = builder.Build(IndexLayout.PostOrder);
        Assert.Equal([0xB0, 0x07, 0xF4, 0x57, 0, 2, 0, 1, 0, 0, 0, 12], bytes);
        Assert.Equal(bytes, builder.Build(IndexLayout.PreOrder));
    }

    [Fact]
    public void ValuesOfOneKeyKeepKmodsOrder()
    {
        var builder = new IndexBuilder();
        builder.Add("k", "late", 5);
        builder.Add("k", "first", 1);
        builder.Add("k", "second-of-five", 5);
        builder.Add("ka", "x", 0);
        var index = IndexFile.Parse("t", builder.Build(IndexLayout.PostOrder));
        // depmod stores [first, second-of-five, late] (a newcomer before older values of its
        // priority); libkmod's reader re-inserts them the same way, which reverses equal priorities again.
        Assert.Equal(["first", "late", "second-of-five"], index.LookupAll("k").Select(v => v.Value));
    }
}
