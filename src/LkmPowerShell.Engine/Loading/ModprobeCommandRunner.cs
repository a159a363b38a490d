using System.Diagnostics;

namespace LkmPowerShell.Engine.Loading;

/// <summary>Runs a modprobe.d install or remove command (a test's runner answers without running anything).</summary>
public delegate ConfigCommandResult CommandRunner(string command, IReadOnlyDictionary<string, string> environment);

/// <summary>How a modprobe.d install or remove command ended.</summary>
/// <param name="ExitCode">The shell's exit code; null when it was stopped.</param>
/// <param name="TimedOut">It ran past its time and was stopped, with every process it started.</param>
public sealed record ConfigCommandResult(int? ExitCode, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>A command that exited by itself with this code (whatever the code: 124 too is an exit, not a timeout).</summary>
    public static implicit operator ConfigCommandResult(int exitCode) => new(exitCode, false);
}

/// <summary>
/// Runs a modprobe.d install or remove command through /bin/sh -c, as kmod does, but never waits
/// forever: past <see cref="DefaultTimeout"/> (or the caller's) the command and its children are
/// killed and the step fails with that reason. kmod waits without limit. The one way the engine
/// runs such a command: the result says whether it exited (with which code) or was stopped, so an
/// exit code is never taken for a timeout.
/// </summary>
internal static class ModprobeCommandRunner
{
    /// <summary>A minute: far more than any real install command (they load a module or two).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>modprobe's way (/bin/sh -c, the environment given), stopped after <see cref="DefaultTimeout"/>.</summary>
    public static ConfigCommandResult Run(string command, IReadOnlyDictionary<string, string> environment) =>
        Run(command, environment, DefaultTimeout);

    public static ConfigCommandResult Run(string command, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // The command's bytes, exactly as modprobe.d holds them (ShellBytes).
        var (script, env) = ShellBytes.Prepare(command, environment);
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var (k, v) in env)
            psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        if (p.WaitForExit(timeout))
        {
            p.WaitForExit(); // drains the output handles
            return new ConfigCommandResult(p.ExitCode, false);
        }
        try
        {
            p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the wait and the kill.
        }
        p.WaitForExit();
        return new ConfigCommandResult(null, true);
    }
}
