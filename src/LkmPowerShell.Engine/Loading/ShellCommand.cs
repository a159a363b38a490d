using System.Diagnostics;

namespace LkmPowerShell.Engine.Loading;

/// <summary>Runs a modprobe.d install or remove command; returns its exit code.</summary>
public delegate int CommandRunner(string command, IReadOnlyDictionary<string, string> environment);

/// <summary>modprobe's way of running install and remove commands: /bin/sh -c, with MODPROBE_MODULE and CMDLINE_OPTS set.</summary>
public static class ShellCommand
{
    public static int Run(string command, IReadOnlyDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        foreach (var (key, value) in environment)
            psi.Environment[key] = value;
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        return p.ExitCode;
    }
}
