using LkmPowerShell.Engine.Audit;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.Symbols;
using LkmPowerShell.Engine.Tests.Kernel;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Audit;

/// <summary>
/// An image read offline keeps its own context: its System.map for the kernel's exports, a view
/// it lacks reported as not run (never as findings), and the progress of the audit; and a listing's
/// stat gives size and time without opening the file. All hermetic.
/// </summary>
public class OfflineContextTests
{
    [Fact]
    public void AFullSystemMapListsTheImagesExports()
    {
        using var fake = new FakeKernelRoot();
        fake.File("/boot/System.map-9.9.9", "ffffffff81000000 T _stext\nffffffff82000000 r __ksymtab_d_instantiate\nffffffff82000010 r __ksymtab_kfree\n");
        var exports = KernelImageExports.Find(fake.Root, "9.9.9");
        Assert.NotNull(exports);
        Assert.True(exports.Contains("d_instantiate"));
        Assert.True(exports.Contains("kfree"));
        Assert.False(exports.Contains("_stext"));
        Assert.Equal(fake.Root.Resolve("/boot/System.map-9.9.9"), exports.Source);
    }

    [Fact]
    public void DebiansStubSystemMapCountsAsAbsent()
    {
        using var fake = new FakeKernelRoot();
        fake.File("/boot/System.map-9.9.9", "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n");
        Assert.Null(KernelImageExports.Find(fake.Root, "9.9.9"));
    }

    [Fact]
    public void WithoutSysModuleTheSysfsViewDidNotRun()
    {
        using var fake = new FakeKernelRoot();
        fake.File("/proc/sys/kernel/osrelease", "9.9.9\n").File("/proc/sys/kernel/tainted", "0\n")
            .File("/proc/modules", "msdos 20480 0 - Live 0xffffffffc0a1b000\nfat 90112 1 msdos, Live 0xffffffffc09f0000\n");
        var progress = new List<AuditProgress>();
        var report = ModuleAudit.Run(fake.Root, progress: progress.Add);
        Assert.DoesNotContain(report.Findings, f => f.Check == AuditCheck.MissingFromSysfs);
        Assert.Contains(report.Findings, f => f.Check == AuditCheck.Coverage && f.Message.Contains("sysfs cross-view did not run"));
        Assert.Empty(report.HiddenModules);
        // Progress: the views first, then each listed module, counted.
        Assert.Equal(0, progress[0].Total);
        Assert.Equal(["msdos", "fat"], progress.Where(p => p.Total == 2).Select(p => p.Current));
    }

    [Fact]
    public void WithSysModuleAMissingDirectoryIsStillAFinding()
    {
        using var fake = new FakeKernelRoot();
        fake.File("/proc/sys/kernel/osrelease", "9.9.9\n").File("/proc/sys/kernel/tainted", "0\n")
            .File("/proc/modules", "msdos 20480 0 - Live 0xffffffffc0a1b000\nfat 90112 1 msdos, Live 0xffffffffc09f0000\n")
            .LoadedModule("fat");
        var report = ModuleAudit.Run(fake.Root);
        Assert.Equal("msdos", Assert.Single(report.Findings, f => f.Check == AuditCheck.MissingFromSysfs).Subject);
        Assert.DoesNotContain(report.Findings, f => f.Message.Contains("sysfs cross-view did not run"));
    }

    [Fact]
    public void AProbeGivesSizeAndTimeAndClampsATimeOutOfRange()
    {
        using var fake = new FakeKernelRoot();
        fake.File("/lib/modules/9.9.9/kernel/a.ko", "0123456789");
        var path = fake.Root.Resolve("/lib/modules/9.9.9/kernel/a.ko");
        var written = new DateTime(2025, 6, 7, 8, 9, 10, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, written);
        var stamp = Engine.ModuleFiles.ModuleFileReader.Probe(path, fake.Root);
        Assert.Equal(10, stamp.Size);
        Assert.Equal(written, stamp.LastWriteTimeUtc);
        File.SetLastWriteTimeUtc(path, new DateTime(1, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Equal(10, Engine.ModuleFiles.ModuleFileReader.Probe(path, fake.Root).Size); // no exception for an odd time
    }
}
