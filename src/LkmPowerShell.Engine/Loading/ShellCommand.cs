using System.Diagnostics;

namespace LkmPowerShell.Engine.Loading;

/// <summary>Runs a modprobe.d install or remove command; returns its exit code.</summary>
public delegate int CommandRunner(string command, IReadOnlyDictionary<string, string> environment);

/// <summary>modprobe's way of running install and remove commands: /bin/sh -c, with MODPROBE_MODULE and CMDLINE_OPTS set.</summary>
public static class ShellCommand
{
    /// <summary>The exit code of a command stopped at its time limit: 124, as timeout(1) reports it.</summary>
    public const int TimedOutExitCode = 124;

    /// <summary>Never waits for ever: past <see cref="ConfigCommand.DefaultTimeout"/> the command and its children are killed.</summary>
    public static int Run(string command, IReadOnlyDictionary<string, string> environment)
    {
        var result = ConfigCommand.Run(command, environment, ConfigCommand.DefaultTimeout);
        return result.TimedOut ? TimedOutExitCode : result.ExitCode ?? TimedOutExitCode;
    }
}
