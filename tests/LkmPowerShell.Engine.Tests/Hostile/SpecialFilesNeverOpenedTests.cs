using System.Runtime.InteropServices;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// A special file named as a module (or any file the engine reads) is refused without being opened
/// for reading: opening a device has effects of its own (a watchdog starts counting down, a tape
/// rewinds on close, a serial line raises DTR), and an untrusted image can hold device nodes.
/// A FIFO shows it: a writer blocked in open() is released the moment anyone opens it to read.
/// </summary>
[Collection(nameof(SafeFileResolutionCollection))]
public sealed class SpecialFilesNeverOpenedTests
{
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

    private const int OWriteOnly = 1, ONonBlock = 0x800;

    [Theory]
    [InlineData("host", false)]
    [InlineData("root", false)]
    [InlineData("root", true)]
    [InlineData("no-follow", false)]
    [InlineData("probe", false)]
    [InlineData("probe", true)]
    public void FifoIsRefusedWithoutBeingOpenedForReading(string how, bool userSpaceWalk)
    {
        using var _ = SafeFileResolution.Use(userSpaceWalk);
        using var root = new HostileRoot();
        root.Fifo($"/lib/modules/{HostileRoot.Version}/kernel/x.ko");
        var fifo = root.At($"/lib/modules/{HostileRoot.Version}/kernel/x.ko");
        var writerFd = -1;
        var writer = new Thread(() => writerFd = Open(fifo, OWriteOnly)) { IsBackground = true };
        writer.Start();
        Thread.Sleep(100); // the writer is now blocked in open(), waiting for a reader
        try
        {
            var e = Within.Throws<FileRefusedException>(() => how switch
            {
                "host" => ModuleFileReader.Read(fifo),
                "root" => ModuleFileReader.Read($"/lib/modules/{HostileRoot.Version}/kernel/x.ko", root.SystemRoot),
                "probe" => Probe(() => ModuleFileReader.Probe($"/lib/modules/{HostileRoot.Version}/kernel/x.ko", root.SystemRoot)),
                _ => SafeFile.ReadAll(fifo, FileLimits.DepmodCache, followLinks: false),
            });
            Assert.Equal(FileRefusal.NotRegularFile, e.Reason);
            Assert.Contains("FIFO", e.Message);
            Assert.False(writer.Join(200), "the FIFO was opened for reading: its blocked writer was released");
        }
        finally
        {
            // Release the writer: open the FIFO to read (non-blocking), then close both ends.
            var reader = Open(fifo, ONonBlock);
            writer.Join(2000);
            if (writerFd >= 0) Close(writerFd);
            if (reader >= 0) Close(reader);
        }
    }

    private static object? Probe(Action probe)
    {
        probe();
        return null;
    }

    [Fact]
    public void LinkRefusedByTheEnginesOwnFilesSaysItIsALink()
    {
        using var root = new HostileRoot();
        var link = Path.Combine(root.Outside, "link");
        File.CreateSymbolicLink(link, root.CanaryPath);
        var e = Assert.Throws<FileRefusedException>(() => SafeFile.ReadAll(link, FileLimits.DepmodCache, followLinks: false));
        Assert.Contains("symbolic link", e.Message);
        root.AssertCanaryUntouched([e.Message]);
    }
}
