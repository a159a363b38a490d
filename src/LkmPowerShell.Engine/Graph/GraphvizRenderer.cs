using System.Diagnostics;

namespace LkmPowerShell.Engine.Graph;

/// <summary>Graphviz's dot did not draw the picture: its exit code and what it said.</summary>
public sealed class GraphvizException(string message) : Exception(message);

/// <summary>Turns DOT text into SVG with Graphviz's <c>dot -Tsvg</c> (Debian package graphviz), fed on stdin.</summary>
public static class GraphvizRenderer
{
    /// <param name="dotText">The picture as DOT text.</param>
    /// <param name="dotExecutable">The dot program's full path (the caller finds it; the engine does not search PATH).</param>
    /// <param name="timeout">How long dot may take before it is stopped.</param>
    /// <exception cref="GraphvizException">dot failed or took too long.</exception>
    public static string ToSvg(string dotText, string dotExecutable, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(dotText);
        ArgumentException.ThrowIfNullOrEmpty(dotExecutable);
        var start = new ProcessStartInfo(dotExecutable, ["-Tsvg"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new GraphvizException($"{dotExecutable} could not be started.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            // Bytes straight to the pipe: nothing stays buffered in the writer to fail again when it is disposed.
            var input = process.StandardInput.BaseStream;
            input.Write(System.Text.Encoding.UTF8.GetBytes(dotText));
            input.Close();
        }
        catch (IOException)
        {
            // dot stopped reading (it failed early): its exit code and message below say why.
        }
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new GraphvizException($"{dotExecutable} -Tsvg did not finish within {timeout.TotalSeconds:0} s and was stopped.");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new GraphvizException($"{dotExecutable} -Tsvg failed (exit code {process.ExitCode}): {error.Result.Trim()}");
        return output.Result;
    }
}
