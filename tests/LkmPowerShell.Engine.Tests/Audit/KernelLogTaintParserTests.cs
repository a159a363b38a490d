using LkmPowerShell.Engine.Audit;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Audit;

public class KernelLogTaintParserTests
{
    [Fact]
    public void FindsTheLoaderMessagesInKmsgRecordsAndDmesgText()
    {
        var events = KernelLogTaintParser.Parse([
            "4,512,1234567,-;rootkit: loading out-of-tree module taints kernel.",
            " SUBSYSTEM=module",
            "5,513,1234600,-;rootkit: module verification failed: signature and/or required key missing - tainting kernel",
            "[   14.774991] wl: module license 'MIXED/Proprietary' taints kernel.",
            "[    5.600621] r8723bs: module is from the staging directory, the quality is unknown, you have been warned.",
            "kunit-test: loading test module taints kernel.",
            "livepatch_x: tainting kernel with TAINT_LIVEPATCH",
            "forced: disagrees about version of symbol x: kernel tainted.",
            "Disabling lock debugging due to kernel taint",
            "6,600,1,-;usb 1-1: new high-speed USB device number 2 using xhci_hcd",
            "6,601,1,-;ACPI: loading out-of-tree module taints kernel. (not a module name with a space)",
        ]);
        Assert.Equal(
            [("rootkit", 'O'), ("rootkit", 'E'), ("wl", 'P'), ("r8723bs", 'C'), ("kunit_test", 'N'), ("livepatch_x", 'K'), ("forced", 'F')],
            events.Select(e => (e.Module, e.Letter)));
        Assert.Equal("rootkit: loading out-of-tree module taints kernel.", events[0].Line);
    }

    [Fact]
    public void SavedLogIsReadUnderTheRootAndBounded()
    {
        using var root = new Kernel.FakeKernelRoot();
        Assert.Null(KernelLogSource.Read(root.Root, out var problem));
        Assert.Contains("does not exist", problem);
        root.File("/dev/kmsg", "a\nb\n");
        Assert.Equal(["a", "b"], KernelLogSource.Read(root.Root, out problem));
        Assert.Null(problem);
        using (var fs = File.OpenWrite(root.Root.Resolve("/dev/kmsg")))
            fs.SetLength(KernelLogSource.MaxFileBytes + 1);
        Assert.Null(KernelLogSource.Read(root.Root, out problem));
        Assert.Contains("limit", problem);
    }
}
