using System.Text;

namespace LkmPowerShell.Engine.Loading;

/// <summary>
/// A modprobe.d command and its environment are byte strings (<see cref="ByteText"/>): kmod hands
/// their bytes to /bin/sh unchanged. .NET passes arguments and environment as UTF-8, which keeps
/// bytes that are UTF-8 and cannot carry the others (a Latin-1 "é"). So a value that is UTF-8 is
/// passed as its text (the same bytes), and one that is not is rebuilt inside the shell from octal
/// escapes (printf), an ASCII-only script that evaluates to the exact bytes.
/// </summary>
internal static class ShellBytes
{
    /// <summary>The <c>/bin/sh -c</c> script and the environment that run <paramref name="command"/> with its exact bytes.</summary>
    public static (string Script, Dictionary<string, string> Environment) Prepare(string command, IReadOnlyDictionary<string, string> environment)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var prefix = new StringBuilder();
        foreach (var (name, value) in environment)
        {
            if (Passes(value)) env[name] = Text(value);
            else prefix.Append(name).Append("=\"$(printf '").Append(Octal(value)).Append("')\"; export ").Append(name).Append("; ");
        }
        if (prefix.Length == 0 && Passes(command))
            return (Text(command), env);
        var script = Passes(command) ? prefix + Text(command) : prefix + "eval \"$(printf '" + Octal(command) + "')\"";
        return (script, env);
    }

    /// <summary>Text (above U+00FF) or bytes that are UTF-8: .NET's UTF-8 marshalling gives the same bytes.</summary>
    private static bool Passes(string s) => s.Any(c => c > '\u00FF') || ByteText.IsUtf8(s);

    private static string Text(string s) => s.Any(c => c > '\u00FF') ? s : ByteText.ToText(s);

    /// <summary>Every byte as a printf octal escape: the format holds no quote, percent or backslash of its own.</summary>
    private static string Octal(string byteString)
    {
        var sb = new StringBuilder(byteString.Length * 4);
        foreach (var b in ByteText.ToBytes(byteString))
            sb.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
        return sb.ToString();
    }
}
