using System.Diagnostics;
using System.Text;

namespace LkmPowerShell.Engine.Tests;

/// <summary>Runs Debian's kmod tools (installed by .ci/run) and returns what they print.</summary>
public static class KmodOracle
{
    /// <summary>Runs a program, fails with its stderr when it exits non-zero or cannot start.</summary>
    public static string Run(string program, IEnumerable<string> arguments, bool allowFailure = false)
    {
        // The tool's path (in PATH, or /usr/sbin and /sbin, which an ordinary user's PATH lacks).
        var psi = new ProcessStartInfo(ModuleFiles.CodecTools.Find(program))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.Latin1,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
            psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"kmod's '{program}' is needed as the test oracle and could not be started ({e.Message}); install Debian's kmod package (apt-get install kmod).", e);
        }
        using (p)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0 && !allowFailure)
                throw new InvalidOperationException($"{program} {string.Join(' ', arguments.Take(3))}... exited {p.ExitCode}: {stderr.Result}");
            return stdout;
        }
    }

    /// <summary>
    /// "modinfo -0" over many files, in batches, split into one record per file (keyed by path).
    /// Each record is the exact bytes modinfo printed for that file.
    /// </summary>
    public static Dictionary<string, string> ModinfoRecords(IReadOnlyList<string> files)
    {
        var records = new Dictionary<string, string>(StringComparer.Ordinal);
        const string start = "filename:       ";
        var batches = files.Chunk(500).ToArray();
        var outputs = new string[batches.Length];
        Parallel.For(0, batches.Length, new ParallelOptions { MaxDegreeOfParallelism = 2 },
            i => outputs[i] = Run("modinfo", new[] { "-0" }.Concat(batches[i])));
        foreach (var output in outputs)
        {
            var at = 0;
            while (at < output.Length)
            {
                if (string.CompareOrdinal(output, at, start, 0, start.Length) != 0)
                    throw new InvalidOperationException($"unexpected modinfo output at {at}: {output.Substring(at, Math.Min(80, output.Length - at))}");
                var next = output.IndexOf("\0" + start, at, StringComparison.Ordinal);
                var end = next < 0 ? output.Length : next + 1;
                var record = output[at..end];
                var path = record[start.Length..record.IndexOf('\0')];
                records[path] = record;
                at = end;
            }
        }
        return records;
    }
}
