using LkmPowerShell.Engine.Depmod;
using LkmPowerShell.Engine.Elf;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.Tests.Depmod;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// The piecewise reader of plain modules (magic, a 32 KiB tail, then each section where the headers
/// say) on files whose size is not what stat said: each outcome is the facts or the engine's own
/// format or I/O error, never another exception. (Hostile section headers are fuzz/regressions/module-file.)
/// </summary>
public sealed class SparseReaderTests
{
    /// <summary>sysfs reports 4096 bytes for a file that reads a few dozen: a file that shrank between stat and read.</summary>
    [Fact]
    public void FileShorterThanItsStatIsAFormatError()
    {
        var sysfs = new[] { "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state", "/sys/kernel/profiling" }
            .FirstOrDefault(f => File.Exists(f) && new FileInfo(f).Length == 4096);
        Assert.True(sysfs is not null, "no sysfs file to stand for a file that stats as 4096 bytes and reads fewer");
        var e = Within.Throws<ModuleFormatException>(() => ModuleFileReader.Read(sysfs));
        Assert.Contains("shrank", e.Message);
        var facts = Within.Seconds(() => new ModuleFactsReader.Worker().Read(sysfs));
        Assert.Contains("shrank", facts.Problem);
    }

    /// <summary>
    /// A module rewritten in place (same inode) while it is read, over and over: cut short, then
    /// whole again. Whatever instant each read lands on, it yields the facts or the reader's error.
    /// </summary>
    [Fact]
    public void ModuleTruncatedAndRestoredWhileReadNeverThrowsAnythingElse()
    {
        using var temp = new TempDirectory();
        var whole = File.ReadAllBytes(Path.Combine(TestKit.SyntheticTree.Shared.ModulesDirectory, "kernel/fs/fat/vfat.ko"));
        var path = Path.Combine(temp.Path, "vfat.ko");
        File.WriteAllBytes(path, whole);
        using var stop = new CancellationTokenSource();
        var writer = new Thread(() =>
        {
            var random = new Random(11);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            while (!stop.IsCancellationRequested)
            {
                stream.SetLength(random.Next(whole.Length));
                Thread.Yield();
                stream.Position = 0;
                stream.Write(whole);
                stream.Flush();
            }
        });
        writer.Start();
        var outcomes = new Dictionary<string, int>();
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(2))
            {
                string outcome;
                try
                {
                    _ = ModuleFileReader.Read(path);
                    using var handle = File.OpenHandle(path);
                    var source = new FileElfSource();
                    source.Open(handle, RandomAccess.GetLength(handle));
                    _ = ModuleFactsReader.Facts(ElfImage.Parse(source, path));
                    outcome = "read";
                }
                catch (ModuleFormatException) { outcome = "format error"; }
                catch (IOException e) { outcome = e.GetType().Name; } // EndOfStream: depmod's source says the file shrank
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        }
        finally
        {
            stop.Cancel();
            writer.Join();
        }
        Assert.True(outcomes.Values.Sum() > 20, string.Join(", ", outcomes));
    }
}
