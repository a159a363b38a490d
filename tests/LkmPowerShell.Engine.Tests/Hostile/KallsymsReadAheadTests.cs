using System.Text;
using LkmPowerShell.Engine.Kernel;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// The kallsyms reader's read-ahead thread (it starts when the file is longer than the parser's
/// 64 KiB buffer) against hostile files: every problem is the reader's format error at the line it
/// is on, nothing hangs, and stopping early ends the thread.
/// </summary>
public sealed class KallsymsReadAheadTests
{
    /// <summary>Lines enough to pass several 64 KiB buffers, so the read-ahead thread serves most of the file.</summary>
    private static StringBuilder Lines(int count)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
            text.Append($"ffffffff{0x81000000 + i * 16:x8} T symbol_{i}\n");
        return text;
    }

    private static List<KallsymsEntry> ReadAll(HostileRoot root) =>
        Within.Seconds(() => new KallsymsReader(root.SystemRoot).Read().ToList());

    [Fact]
    public void HugeLineAfterTheFirstBufferIsAFormatError()
    {
        using var root = new HostileRoot();
        var text = Lines(10_000).Append("ffffffff81000000 T ").Append('x', 200_000).Append('\n').Append(Lines(10));
        root.Write("/proc/kallsyms", text.ToString());
        var e = Within.Throws<ModuleFormatException>(() => new KallsymsReader(root.SystemRoot).Read());
        Assert.Contains("longer than", e.Message);
    }

    [Fact]
    public void NameLongerThanTheKernelAllowsDeepInTheFileIsAFormatError()
    {
        using var root = new HostileRoot();
        root.Write("/proc/kallsyms", Lines(10_000).Append("ffffffff81000000 T ").Append('y', 600).Append('\n').ToString());
        var e = Within.Throws<ModuleFormatException>(() => new KallsymsReader(root.SystemRoot).Read());
        Assert.Contains("longer than the kernel allows", e.Message);
    }

    [Fact]
    public void FileEndingMidLineKeepsItsLastLine()
    {
        using var root = new HostileRoot();
        root.Write("/proc/kallsyms", Lines(10_000).Append("ffffffff82000000 t last_without_newline").ToString());
        var symbols = ReadAll(root);
        Assert.Equal(10_001, symbols.Count);
        Assert.Equal("last_without_newline", symbols[^1].Name);

        // Cut inside the address of the last line: that line is malformed and said so.
        root.Write("/proc/kallsyms", Lines(10_000).Append("ffffffff8200").ToString());
        Assert.Contains("expected 'address type name'", Within.Throws<ModuleFormatException>(() => new KallsymsReader(root.SystemRoot).Read()).Message);
    }

    [Fact]
    public void NulBytesAreNeverMoreThanAFormatError()
    {
        using var root = new HostileRoot();
        var bytes = Encoding.ASCII.GetBytes(Lines(10_000).ToString());
        // NULs in a name, in an address, and a run of them across a buffer boundary.
        var withNul = (byte[])bytes.Clone();
        withNul[100_000] = 0;
        root.Write("/proc/kallsyms", withNul);
        try { ReadAll(root); } catch (ModuleFormatException) { }
        var run = (byte[])bytes.Clone();
        Array.Clear(run, 65_000, 2_000);
        root.Write("/proc/kallsyms", run);
        try { ReadAll(root); } catch (ModuleFormatException) { }
        // A whole file of NULs: no newline within the buffer.
        root.Write("/proc/kallsyms", new byte[300_000]);
        Assert.Contains("longer than", Within.Throws<ModuleFormatException>(() => new KallsymsReader(root.SystemRoot).Read()).Message);
    }

    [Fact]
    public void StoppingEarlyEndsTheReadAheadAndTheFileCanBeReadAgain()
    {
        using var root = new HostileRoot();
        root.Write("/proc/kallsyms", Lines(50_000).ToString());
        var reader = new KallsymsReader(root.SystemRoot);
        for (var i = 0; i < 20; i++)
        {
            var first = Within.Seconds(() => reader.Read().Take(3).ToList());
            Assert.Equal("symbol_2", first[2].Name);
        }
        Assert.Equal(50_000, Within.Seconds(() => reader.Read().Count()));
    }

    [Fact]
    public void FileReplacedByAFifoBetweenReadsIsRefusedWithoutHanging()
    {
        using var root = new HostileRoot();
        root.Write("/proc/kallsyms", Lines(20_000).ToString());
        var reader = new KallsymsReader(root.SystemRoot);
        Assert.Equal(20_000, Within.Seconds(() => reader.Read().Count()));
        File.Delete(root.At("/proc/kallsyms"));
        root.Fifo("/proc/kallsyms");
        Within.Throws<IOException>(() => reader.Read());
    }
}
