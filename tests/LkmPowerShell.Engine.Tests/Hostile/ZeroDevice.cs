using System.Diagnostics;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// A real character device (1:5, what /dev/zero is) planted inside a root, where a link to
/// /dev/zero would be resolved inside the root and so never reach the device. mknod needs
/// CAP_MKNOD: the tests that plant one are in the privileged layer ([Trait("Layer", "Privileged")]),
/// which needs root; without it the test fails, saying so.
/// </summary>
public static class ZeroDevice
{
    public static HostileRoot Device(this HostileRoot root, string systemPath)
    {
        var path = root.At(systemPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var mknod = Process.Start(new ProcessStartInfo("mknod", [path, "c", "1", "5"]) { RedirectStandardError = true })!;
        var error = mknod.StandardError.ReadToEnd();
        mknod.WaitForExit();
        if (mknod.ExitCode != 0)
            throw new IOException($"mknod {path} c 1 5 failed (it needs CAP_MKNOD): {error}");
        return root;
    }
}
