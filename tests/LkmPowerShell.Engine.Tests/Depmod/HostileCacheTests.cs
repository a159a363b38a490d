using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.Tests.Hostile;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Depmod;

/// <summary>
/// depmod's cache (index + append-only facts file) and its output record, attacked: files that lie
/// with a valid checksum (the checksums are not secret, so a hostile image can forge them), files
/// that are links, FIFOs or huge, and the states a crash between two writes leaves. Each run must
/// end with kmod's exact files, without a crash or a hang, and nothing outside the tree is read or written.
/// </summary>
public sealed class HostileCacheTests
{
    private static DepmodTree Tree()
    {
        var tree = new DepmodTree().WithSyntheticBuiltins();
        foreach (var m in new[] { "kernel/fs/fat/fat.ko", "kernel/fs/fat/msdos.ko", "kernel/fs/fat/vfat.ko", "kernel/drivers/net/dummy.ko" })
            tree.Synthetic(m);
        return tree;
    }

    private static DepmodResult Run(DepmodTree tree) => Within.Seconds(() => tree.RunEngine(o => o with { UseCache = true }));

    private static string CachePath(DepmodTree tree) => DepmodCache.PathFor(new SystemRoot(tree.Root), tree.OutputRoot, tree.Version)!;
    private static string FactsPath(DepmodTree tree) => Path.Join(Path.GetDirectoryName(CachePath(tree)), DepmodCache.FactsFileName);
    private static string RecordPath(DepmodTree tree) => DepmodOutputRecord.PathBeside(CachePath(tree));

    private static Dictionary<string, byte[]> Outputs(DepmodTree tree) =>
        FullTreeTests.KmodFiles.ToDictionary(n => n, n => File.ReadAllBytes(Path.Combine(tree.OutputDirectory, n)));

    /// <summary>A run with a good cache, the files it wrote, and no record (so the next run must use the cache's facts).</summary>
    private static (DepmodTree Tree, Dictionary<string, byte[]> Expected) Cached()
    {
        var tree = Tree();
        Run(tree);
        Assert.Equal(4, Run(tree).ModulesFromCache);
        File.Delete(RecordPath(tree));
        return (tree, Outputs(tree));
    }

    [Fact]
    public void EntryWhoseOffsetOverflowsCostsOneModule()
    {
        // Found attacking the cache: offset + length overflowed past the bounds check, and reading
        // the facts threw ArgumentOutOfRangeException out of the run.
        var (tree, expected) = Cached();
        using var _ = tree;
        CacheIndex.Rewrite(CachePath(tree), entries => { entries[0].Offset = long.MaxValue; entries[0].Length = 1; });
        Run(tree);
        Assert.Equal(expected, Outputs(tree));
        Assert.Equal(4, Run(tree).ModulesFromCache); // the next run's cache is whole again
        tree.AssertSameAsKmod(o => o with { UseCache = true });
    }

    [Fact]
    public void EntryWhoseDigestMatchesButLengthLiesIsReadAgain()
    {
        var (tree, expected) = Cached();
        using var _ = tree;
        // The length claims one byte more (the next entry's first byte): the digest no longer matches those bytes.
        CacheIndex.Rewrite(CachePath(tree), entries =>
        {
            var e = entries.OrderBy(x => x.Offset).First();
            e.Length += 1;
        });
        Run(tree);
        Assert.Equal(expected, Outputs(tree));
        // The digest is right for the bytes the length names, but those are not a whole entry (a shorter length).
        CacheIndex.Rewrite(CachePath(tree), entries =>
        {
            var e = entries[0];
            e.Length -= 1;
            e.Digest = SHA256.HashData(File.ReadAllBytes(FactsPath(tree)).AsSpan((int)e.Offset, e.Length));
        });
        File.Delete(RecordPath(tree));
        Run(tree);
        Assert.Equal(expected, Outputs(tree));
        tree.AssertSameAsKmod(o => o with { UseCache = true });
    }

    [Fact]
    public void HugeEntryCountIsRefusedBeforeAllocating()
    {
        var (tree, expected) = Cached();
        using var _ = tree;
        // A count as large as the file: each entry takes more than 90 bytes, so it cannot be right.
        CacheIndex.Rewrite(CachePath(tree), _ => { }, count: int.MaxValue / 2);
        var result = Run(tree);
        Assert.Contains(result.Warnings, w => w.Kind == DepmodWarningKind.Cache);
        Assert.Equal(expected, Outputs(tree));
    }

    /// <summary>
    /// A count checked only against the bytes left let a 1 MB index reserve a dictionary of a million
    /// entries (about 100 MB; a 256 MB index, the limit, would reserve tens of GB). Counts are now
    /// checked against the smallest entry, so memory stays in proportion to the file.
    /// </summary>
    [Fact]
    public void IndexAllocatesInProportionToItsSize()
    {
        using var temp = new TempDirectory();
        var index = Path.Combine(temp.Path, DepmodCache.FileName);
        var facts = Path.Combine(temp.Path, DepmodCache.FactsFileName);
        File.WriteAllBytes(facts, new byte[64]);
        var (device, inode) = NativeFileIdentity(facts);
        var body = new byte[1 << 20];
        "LKMDEPC\n"u8.CopyTo(body);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(8), 3);
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(12), device);
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(20), inode);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(28), body.Length - 100);
        File.WriteAllBytes(index, [.. body, .. SHA256.HashData(body)]);
        DepmodCache.Load(index, out _); // warm up the code paths
        var before = GC.GetAllocatedBytesForCurrentThread();
        var cache = DepmodCache.Load(index, out var problem);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Null(cache);
        Assert.NotNull(problem);
        Assert.True(allocated < 8L * body.Length, $"{allocated:N0} bytes allocated to refuse a {body.Length:N0}-byte index");
    }

    /// <summary>The same for one module's facts: a count of symbols as large as the bytes left reserved 8 bytes for each byte.</summary>
    [Fact]
    public void FactsAllocateInProportionToTheirSize()
    {
        var bytes = new byte[1 << 20];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, bytes.Length - 4);
        var blob = new ModuleFactsBlob(bytes, SHA256.HashData(bytes));
        Assert.Throws<InvalidDataException>(() => blob.Decode()); // warm up
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => blob.Decode());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 4L * bytes.Length, $"{allocated:N0} bytes allocated to refuse {bytes.Length:N0} bytes of facts");
    }

    [Fact]
    public void CacheFilesThatAreFifosNeverHang()
    {
        foreach (var which in new[] { "index", "facts", "record" })
        {
            var (tree, expected) = Cached();
            using var _ = tree;
            var path = which switch { "index" => CachePath(tree), "facts" => FactsPath(tree), _ => RecordPath(tree) };
            File.Delete(path);
            MkFifo.Make(path, 0x1A4);
            Run(tree);
            Assert.Equal(expected, Outputs(tree));
            Run(tree);
            Assert.Equal(expected, Outputs(tree));
            tree.AssertSameAsKmod(o => o with { UseCache = true });
        }
    }

    [Fact]
    public void CacheFilesThatAreLinksOutOfTheTreeAreNotRead()
    {
        foreach (var which in new[] { "index", "facts", "record" })
        {
            var (tree, expected) = Cached();
            using var _ = tree;
            using var outside = new HostileRoot();
            var path = which switch { "index" => CachePath(tree), "facts" => FactsPath(tree), _ => RecordPath(tree) };
            File.Delete(path);
            File.CreateSymbolicLink(path, outside.CanaryPath);
            var result = Run(tree);
            Assert.Equal(expected, Outputs(tree));
            outside.AssertCanaryUntouched(result.Warnings.Select(w => w.Message));
        }
    }

    [Fact]
    public void FactsFileLinkedOutOfTheTreeIsNeverAppendedTo()
    {
        // The index names the facts file by device and inode, checksummed but not secret: a hostile
        // image can name a host file's, link the facts file to it, and wait for an append.
        var (tree, expected) = Cached();
        using var _ = tree;
        using var outside = new HostileRoot();
        var facts = FactsPath(tree);
        var victim = Path.Combine(outside.Outside, "passwd");
        File.Copy(facts, victim);
        var before = File.ReadAllBytes(victim);
        File.Delete(facts);
        File.CreateSymbolicLink(facts, victim);
        var id = NativeFileIdentity(victim);
        CacheIndex.Rewrite(CachePath(tree), _ => { }, factsFile: id);
        // A module changed, so its facts would be appended.
        File.SetLastWriteTimeUtc(Path.Combine(tree.ModulesDirectory, "kernel/drivers/net/dummy.ko"), DateTime.UtcNow.AddMinutes(-5));
        Run(tree);
        Assert.Equal(before, File.ReadAllBytes(victim));
        Assert.Equal(expected, Outputs(tree));
        tree.AssertSameAsKmod(o => o with { UseCache = true });
    }

    [Fact]
    public void HostileRecordIsNeverTrusted()
    {
        var tree = Tree();
        using var _ = tree;
        Run(tree);
        var expected = Outputs(tree);
        var record = RecordPath(tree);
        var good = File.ReadAllBytes(record);
        // Truncated, garbled, empty, huge counts with a valid checksum: each ignored, the files rendered again.
        byte[] Resealed(byte[] body) => [.. body, .. SHA256.HashData(body)];
        var body = good[..^32];
        var hugeCount = (byte[])body.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(hugeCount.AsSpan(8 + 4 + 4 + 32 + 8), int.MaxValue);
        foreach (var damaged in new[] { good[..(good.Length / 2)], [], "LKMDEPO\ngarbage"u8.ToArray(), Resealed(hugeCount), Resealed(body[..^5]) })
        {
            File.WriteAllBytes(record, damaged);
            var result = Run(tree);
            Assert.False(result.OutputsUnchanged);
            Assert.Equal(expected, Outputs(tree));
        }
    }

    [Fact]
    public void OutputReplacedWithTheSameSizeAndMtimeIsWrittenAgain()
    {
        var tree = Tree();
        using var _ = tree;
        Run(tree);
        var expected = Outputs(tree);
        foreach (var name in new[] { "modules.dep", "modules.alias.bin" })
        {
            var path = Path.Combine(tree.OutputDirectory, name);
            var stale = File.ReadAllBytes(path);
            stale[^1] ^= 0x01;
            var mtime = File.GetLastWriteTimeUtc(path);
            File.WriteAllBytes(path + ".new", stale);
            File.SetLastWriteTimeUtc(path + ".new", mtime);
            File.Move(path + ".new", path, overwrite: true);
            Assert.Equal(expected[name].Length, new FileInfo(path).Length);
            var result = Run(tree);
            Assert.False(result.OutputsUnchanged);
            Assert.Equal(expected, Outputs(tree));
        }
    }

    /// <summary>
    /// A crash between the cache's writes (facts appended or renamed into place, index not yet
    /// written; or temporaries left behind) leaves states that the next run must take in its stride.
    /// </summary>
    [Fact]
    public void CrashBetweenFactsAndIndexNeverServesStaleFacts()
    {
        // Appended facts without their index: the old index still describes its old bytes.
        var (tree, expected) = Cached();
        using (tree)
        {
            File.AppendAllText(FactsPath(tree), "half-written facts of a run that died");
            Assert.Equal(4, Run(tree).ModulesFromCache);
            Assert.Equal(expected, Outputs(tree));
            tree.AssertSameAsKmod(o => o with { UseCache = true });
        }

        // A new facts file renamed into place, the index still the old one: the index is not used.
        (tree, expected) = Cached();
        using (tree)
        {
            var facts = FactsPath(tree);
            var old = File.ReadAllBytes(facts);
            File.WriteAllBytes(facts + ".tmp", [.. old.Reverse()]);
            File.Move(facts + ".tmp", facts, overwrite: true);
            var result = Run(tree);
            Assert.Equal(0, result.ModulesFromCache);
            Assert.Equal(expected, Outputs(tree));
            Assert.Equal(4, Run(tree).ModulesFromCache);

            // The same, but the new file got the old one's inode number (freed first): every entry fails its digest.
            File.Delete(RecordPath(tree));
            old = File.ReadAllBytes(facts);
            File.Delete(facts);
            File.WriteAllBytes(facts, [.. old.Reverse()]);
            Run(tree);
            Assert.Equal(expected, Outputs(tree));
            tree.AssertSameAsKmod(o => o with { UseCache = true });
        }

        // A module changed and the run died after writing its facts but before the index: the old
        // entry's identity no longer matches, so the module is read again, never taken stale.
        (tree, expected) = Cached();
        using (tree)
        {
            var dummy = Path.Combine(tree.ModulesDirectory, "kernel/drivers/net/dummy.ko");
            var bytes = File.ReadAllBytes(dummy);
            var at = bytes.AsSpan().IndexOf("alias=rtnl-link-dummy"u8);
            bytes[at + "alias=rtnl-link-dumm".Length] = (byte)'q';
            var mtime = File.GetLastWriteTimeUtc(dummy);
            File.WriteAllBytes(dummy, bytes);
            File.SetLastWriteTimeUtc(dummy, mtime);
            File.AppendAllText(FactsPath(tree), "facts of the changed module, index never written");
            File.WriteAllText(Path.Join(Path.GetDirectoryName(CachePath(tree)), $".{DepmodCache.FileName}.999-dead.tmp"), "torn");
            var result = Run(tree);
            Assert.Equal(3, result.ModulesFromCache);
            Assert.Contains("alias rtnl-link-dummq dummy\n", tree.EngineFile("modules.alias"));
            tree.AssertSameAsKmod(o => o with { UseCache = true });
        }
    }

    /// <summary>
    /// The publication journal in depmod's folder: a FIFO in its place hung the run (File.ReadAllLines
    /// blocks opening a FIFO with no writer); a link was read out of the tree. Each is now set aside.
    /// </summary>
    [Fact]
    public void JournalThatIsAFifoOrALinkNeverHangsNorReadsOutside()
    {
        foreach (var kind in new[] { "fifo", "link", "garbage" })
        {
            var tree = Tree();
            using var _ = tree;
            using var outside = new HostileRoot();
            Run(tree);
            var expected = Outputs(tree);
            var journal = Path.Combine(tree.OutputDirectory, "modules.lkmpowershell.journal");
            switch (kind)
            {
                case "fifo": MkFifo.Make(journal, 0x1A4); break;
                case "link": File.CreateSymbolicLink(journal, outside.CanaryPath); break;
                default: File.WriteAllBytes(journal, [0, 0xFF, (byte)'\t', (byte)'\n', .. "../../x\t/etc/passwd\n"u8, .. "modules.dep\t\n"u8]); break;
            }
            File.WriteAllText(Path.Combine(tree.OutputDirectory, "modules.alias"), "stale\n");
            var result = Run(tree);
            Assert.Equal(expected, Outputs(tree));
            Assert.False(File.Exists(journal) || new FileInfo(journal).LinkTarget is not null, $"the {kind} journal was left in depmod's folder");
            outside.AssertCanaryUntouched(result.Warnings.Select(w => w.Message));
        }
    }

    /// <summary>The device and inode of a file, as the cache's index names its facts file.</summary>
    private static (ulong Device, ulong Inode) NativeFileIdentity(string path) =>
        NativeFile.Stat(path) is { } id ? (id.Device, id.Inode) : throw new IOException("statx failed");

    /// <summary>The cache index's layout, read and written back with a valid checksum, as a hostile image would forge it.</summary>
    private sealed class CacheIndex
    {
        public sealed class Entry
        {
            public required string Key;
            public required byte[] Identity; // 52 bytes: device .. mode
            public required byte[] Digest;
            public long Offset;
            public int Length;
        }

        public static void Rewrite(string path, Action<List<Entry>> change, int? count = null, (ulong, ulong)? factsFile = null)
        {
            var data = File.ReadAllBytes(path);
            using var reader = new BinaryReader(new MemoryStream(data, 0, data.Length - 32), Encoding.UTF8);
            var head = reader.ReadBytes(8 + 4);
            var facts = (reader.ReadUInt64(), reader.ReadUInt64());
            var n = reader.ReadInt32();
            var entries = new List<Entry>();
            for (var i = 0; i < n; i++)
                entries.Add(new Entry { Key = reader.ReadString(), Identity = reader.ReadBytes(52), Digest = reader.ReadBytes(32), Offset = reader.ReadInt64(), Length = reader.ReadInt32() });
            change(entries);
            var output = new MemoryStream();
            using (var w = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true))
            {
                w.Write(head);
                var f = factsFile ?? facts;
                w.Write(f.Item1);
                w.Write(f.Item2);
                w.Write(count ?? entries.Count);
                foreach (var e in entries)
                {
                    w.Write(e.Key); w.Write(e.Identity); w.Write(e.Digest); w.Write(e.Offset); w.Write(e.Length);
                }
            }
            var body = output.ToArray();
            File.WriteAllBytes(path, [.. body, .. SHA256.HashData(body)]);
        }
    }
}
