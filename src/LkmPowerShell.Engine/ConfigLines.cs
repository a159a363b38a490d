using System.Text;

namespace LkmPowerShell.Engine;

/// <summary>
/// kmod's freadline_wrapped, for modprobe.d and depmod.d alike: "\" + newline continues a line,
/// "\" + another character keeps only that character (a "\" at the very end is dropped).
/// </summary>
internal static class ConfigLines
{
    /// <summary>A logical line and the physical lines it spans (1-based): kmod reports the last.</summary>
    public readonly record struct Line(string Text, int FirstNumber, int LastNumber);

    /// <remarks><paramref name="maxLength"/>: characters past this are not kept (the caller reports the line as too long).</remarks>
    public static IEnumerable<Line> Read(string text, int maxLength = int.MaxValue)
    {
        var current = new StringBuilder();
        var physical = 1;
        var start = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                yield return new Line(current.ToString(), start, physical);
                current.Clear();
                start = ++physical;
            }
            else if (c == '\\')
            {
                if (i + 1 >= text.Length)
                    break;
                var next = text[++i];
                if (next == '\n') physical++;
                else if (current.Length <= maxLength) current.Append(next);
            }
            else if (current.Length <= maxLength)
            {
                current.Append(c);
            }
        }
        if (current.Length > 0)
            yield return new Line(current.ToString(), start, physical);
    }
}
