using LkmPowerShell.Engine.Depmod;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>The walk's native listing and kmod's hash order, each against a plain reference.</summary>
public class WalkAndOrderTests
{
    /// <summary>getdents64 + statx relative to the folder give what the managed enumerator and a statx by path give, in the same order.</summary>
    [Fact]
    public void NativeListingMatchesTheManagedEnumerator()
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        Directory.CreateDirectory(Path.Combine(dir, "target"));
        for (var i = 0; i < 300; i++) // more entries than one getdents64 buffer holds
            File.WriteAllText(Path.Combine(dir, $"module_{i:D3}_with_a_long_name_to_fill_the_buffer.ko"), "x");
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "x");
        File.WriteAllText(Path.Combine(dir, "caf\u00e9.ko.xz"), "x");
        File.CreateSymbolicLink(Path.Combine(dir, "link-to-dir"), Path.Combine(dir, "target"));
        File.CreateSymbolicLink(Path.Combine(dir, "link.ko"), Path.Combine(dir, "module_001_with_a_long_name_to_fill_the_buffer.ko"));
        File.CreateSymbolicLink(Path.Combine(dir, "broken.ko"), Path.Combine(dir, "nowhere"));

        var native = NativeDirectory.TryList(dir, LkmPowerShell.Engine.ModuleTree.ModuleFileNames.IsModuleFile);
        Assert.NotNull(native);
        var managed = new System.IO.Enumeration.FileSystemEnumerable<(string Name, bool IsDirectory)>(dir,
            (ref System.IO.Enumeration.FileSystemEntry e) => (e.FileName.ToString(), e.IsDirectory),
            new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0 }).ToList();
        Assert.Equal(managed, native.Select(e => (e.Name, e.IsDirectory)).ToList());
        foreach (var e in native)
        {
            var wanted = !e.IsDirectory && LkmPowerShell.Engine.ModuleTree.ModuleFileNames.IsModuleFile(e.Name);
            Assert.Equal(wanted ? NativeFile.Stat(Path.Combine(dir, e.Name)) : null, e.Identity);
        }
        Assert.Null(native.Single(e => e.Name == "broken.ko").Identity);
        Assert.True(native.Single(e => e.Name == "link-to-dir").IsDirectory);
        Assert.Equal(NativeFile.Stat(Path.Combine(dir, "module_001_with_a_long_name_to_fill_the_buffer.ko")), native.Single(e => e.Name == "link.ko").Identity);
    }

    [Fact]
    public void NativeListingOfAMissingFolderFailsAsTheManagedOneDoes()
    {
        using var temp = new TempDirectory();
        Assert.Throws<DirectoryNotFoundException>(() => NativeDirectory.TryList(Path.Combine(temp.Path, "missing"), _ => true));
        var file = Path.Combine(temp.Path, "file");
        File.WriteAllText(file, "x");
        Assert.ThrowsAny<IOException>(() => NativeDirectory.TryList(file, _ => true));
    }

    /// <summary>The counting sort by bucket gives what sorting every key by (bucket, strcmp) gives, crowded buckets included.</summary>
    [Theory]
    [InlineData(512, 4000)]
    [InlineData(2048, 30000)]
    [InlineData(4, 500)] // about 125 keys a bucket: the crowded-bucket path
    public void HashOrderIsBucketThenStrcmp(int buckets, int count)
    {
        var random = new Random(11);
        var keys = Enumerable.Range(0, count)
            .Select(i => new string(Enumerable.Range(0, random.Next(1, 24)).Select(_ => (char)random.Next(32, 256)).ToArray()) + i)
            .ToArray();
        var expected = Enumerable.Range(0, count)
            .OrderBy(i => KmodHash.SuperFast(keys[i]) & (uint)(buckets - 1))
            .ThenBy(i => keys[i], StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(expected, KmodHash.IterationOrder(keys, buckets));
        Assert.Equal(expected.Select(i => keys[i]), KmodHash.IterationOrder(keys, k => k, buckets));
    }
}
