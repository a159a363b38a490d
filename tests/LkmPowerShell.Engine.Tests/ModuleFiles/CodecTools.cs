using System.Diagnostics;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>
/// Runs the command-line tools the codec and signature tests use as oracles (xz, zstd, modinfo),
/// and finds every tool the tests run, kmod's included (in /sbin, outside an ordinary user's PATH).
/// A missing tool fails the test with the Debian package to install: these tests are never skipped.
/// </summary>
internal static class CodecTools
{
    private static readonly Dictionary<string, string> Packages = new()
    {
        ["xz"] = "xz-utils",
        ["zstd"] = "zstd",
        ["modinfo"] = "kmod",
        ["modprobe"] = "kmod",
        ["depmod"] = "kmod",
        ["openssl"] = "openssl",
        ["cpio"] = "cpio",
        ["gzip"] = "gzip",
        ["mkinitramfs"] = "initramfs-tools-core",
        ["lsinitramfs"] = "initramfs-tools-core",
        ["unshare"] = "util-linux",
    };

    /// <summary>Runs a tool, optionally feeding stdin, and returns its stdout bytes; a non-zero exit fails.</summary>
    public static byte[] Run(string tool, IEnumerable<string> arguments, byte[]? stdin = null)
    {
        var path = Find(tool);
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var feed = Task.Run(() =>
        {
            if (stdin is null)
                return;
            process.StandardInput.BaseStream.Write(stdin);
            process.StandardInput.Close();
        });
        using var stdout = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(stdout);
        feed.Wait();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{tool} exited with {process.ExitCode}: {stderr.Result}");
        return stdout.ToArray();
    }

    /// <summary>The tool's full path, or a failure naming the package that provides it.</summary>
    public static string Find(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin"]))
        {
            var candidate = Path.Combine(dir, tool);
            if (dir.Length > 0 && File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException(
            $"The '{tool}' command is missing; these tests need it as an oracle. Install the Debian package " +
            $"'{Packages.GetValueOrDefault(tool, tool)}' (apt-get install {Packages.GetValueOrDefault(tool, tool)}).");
    }
}
