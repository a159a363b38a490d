using System.Text;

namespace LkmPowerShell.Engine;

/// <summary>
/// kmod's freadline_wrapped, for modprobe.d and depmod.d alike: "\" + newline continues a line,
/// "\" + another character keeps only that character (a "\" at the very end is dropped). The text
/// is a byte string (one char per byte, <see cref="ByteText"/>), so every byte is seen as kmod sees it.
/// </summary>
internal static class ConfigLines
{
    /// <summary>A logical line and the physical lines it spans (1-based): kmod reports the last.</summary>
    public readonly record struct Line(string Text, int FirstNumber, int LastNumber);

    /// <remarks>
    /// <paramref name="maxLength"/>: characters past this are not kept (the caller reports the line
    /// as too long). A NUL ends the logical line's text, as kmod's C string ends there; the bytes up
    /// to the newline still belong to that line and are dropped.
    /// </remarks>
    public static IEnumerable<Line> Read(string text, int maxLength = int.MaxValue)
    {
        var current = new StringBuilder();
        var ended = false; // a NUL was seen: kmod's line stops there
        var any = false;   // kmod returns a line at end of file only when it holds a byte
        var physical = 1;
        var start = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                yield return new Line(current.ToString(), start, physical);
                current.Clear();
                ended = any = false;
                start = ++physical;
                continue;
            }
            if (c == '\\')
            {
                if (i + 1 >= text.Length)
                    break;
                c = text[++i];
                if (c == '\n')
                {
                    physical++;
                    continue;
                }
            }
            any = true;
            if (c == '\0') ended = true;
            else if (!ended && current.Length <= maxLength) current.Append(c);
        }
        if (any)
            yield return new Line(current.ToString(), start, physical);
    }
}
