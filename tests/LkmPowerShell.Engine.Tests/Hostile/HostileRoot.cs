using LkmPowerShell.Engine.Tests.TestKit;
using System.Runtime.InteropServices;
using LkmPowerShell.Engine.Tests.Depmod;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>
/// An untrusted image in a temp folder, with a canary file beside it (outside the root) whose
/// contents must never come back from anything that reads under the root, and whose access time
/// tells whether it was read at all.
/// </summary>
public sealed class HostileRoot : IDisposable
{
    public const string Version = "6.1.0-99-amd64";

    /// <summary>Unique, so finding it anywhere means the canary was read.</summary>
    public string CanaryText { get; } = "root:$y$j9T$CANARY-" + Guid.NewGuid().ToString("N") + ":19000:0:99999:7:::";

    public HostileRoot()
    {
        Outside = Directory.CreateTempSubdirectory("lkm-hostile-").FullName;
        Root = Path.Combine(Outside, "image");
        Directory.CreateDirectory(ModulesDirectory);
        CanaryPath = Path.Combine(Outside, "shadow");
        File.WriteAllText(CanaryPath, CanaryText + "\n");
        // relatime updates the access time on a read when it is older than the change time.
        File.SetLastAccessTimeUtc(CanaryPath, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        CanaryAccess = File.GetLastAccessTimeUtc(CanaryPath);
    }

    /// <summary>The folder holding the root and the canary.</summary>
    public string Outside { get; }
    public string Root { get; }
    public SystemRoot SystemRoot => new(Root);
    public string ModulesDirectory => Path.Combine(Root, "lib/modules", Version);
    public string CanaryPath { get; }
    private DateTime CanaryAccess { get; }

    /// <summary>A file at a system path under the root ("/etc/modprobe.d/x.conf").</summary>
    public string At(string systemPath) => SystemRoot.Resolve(systemPath);

    public HostileRoot Write(string systemPath, string text) => Write(systemPath, System.Text.Encoding.UTF8.GetBytes(text));

    public HostileRoot Write(string systemPath, byte[] bytes)
    {
        var path = At(systemPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return this;
    }

    public HostileRoot Fifo(string systemPath)
    {
        var path = At(systemPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (MkFifo(path, 0x1A4) != 0)
            throw new IOException($"mkfifo {path} failed: {Marshal.GetLastPInvokeError()}");
        return this;
    }

    public HostileRoot Symlink(string systemPath, string target)
    {
        var path = At(systemPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.CreateSymbolicLink(path, target);
        return this;
    }

    /// <summary>A small valid module (built by the test ELF writer).</summary>
    public static byte[] Module(string name) =>
        ModuleWriter.Build(name, [(name + "_fn", 1)], [], ["license=GPL", "description=test module " + name]);

    /// <summary>Fails when any text contains the canary or the canary was read since the root was made.</summary>
    public void AssertCanaryUntouched(params IEnumerable<string?>[] texts)
    {
        foreach (var text in texts.SelectMany(t => t))
            Xunit.Assert.False(text is not null && text.Contains("CANARY-"), $"the canary leaked into: {text}");
        Xunit.Assert.Equal(CanaryAccess, File.GetLastAccessTimeUtc(CanaryPath));
    }

    public void Dispose()
    {
        try { Directory.Delete(Outside, recursive: true); } catch (IOException) { }
    }

    private static int MkFifo(string path, uint mode) => Hostile.MkFifo.Make(path, mode);
}

/// <summary>Runs a call with a time bound: a hang fails the test instead of stalling the run.</summary>
public static class Within
{
    /// <summary>Generous: every refusal here takes milliseconds; only a hang reaches it.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public static T Seconds<T>(Func<T> call)
    {
        var task = Task.Factory.StartNew(call, TaskCreationOptions.LongRunning);
        Xunit.Assert.True(Task.WhenAny(task, Task.Delay(Bound)).Result == task, $"did not return within {Bound.TotalSeconds} s (a hang)");
        return task.GetAwaiter().GetResult();
    }

    public static TException Throws<TException>(Func<object?> call) where TException : Exception =>
        Seconds(() =>
        {
            try
            {
                var result = call();
                if (result is System.Collections.IEnumerable e and not string)
                    foreach (var _ in e) { }
            }
            catch (TException expected)
            {
                return expected;
            }
            throw new Xunit.Sdk.XunitException($"expected {typeof(TException).Name}, nothing was thrown");
        });
}
