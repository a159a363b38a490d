using System.Text;
using System.Text.Unicode;

namespace LkmPowerShell.Engine;

/// <summary>
/// kmod works on bytes: module strings, configuration lines and commands are C strings, compared
/// with strcmp and printed or run as they are. The engine keeps such bytes as a "byte string":
/// one char per byte (Latin-1), so ordinal comparison equals strcmp and <see cref="ToBytes"/> gives
/// back the exact bytes, whatever they are (Latin-1 text, broken UTF-8). Text meant for people
/// (<see cref="ToText"/>) reads the bytes as UTF-8 when they are UTF-8, which is what almost every
/// real file holds.
/// </summary>
public static class ByteText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The byte string of <paramref name="bytes"/>: one char per byte.</summary>
    public static string FromBytes(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>The bytes a byte string stands for.</summary>
    public static byte[] ToBytes(string byteString) => Encoding.Latin1.GetBytes(byteString);

    /// <summary>The byte string of text as a file would hold it (UTF-8): for names and lines typed by a user.</summary>
    public static string FromText(string text) =>
        Ascii.IsValid(text) ? text : FromBytes(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// A byte string for people: its bytes decoded as UTF-8 when they are valid UTF-8 (so writing
    /// the result as UTF-8 gives back the same bytes), otherwise one character per byte (Latin-1),
    /// which loses nothing and reads right for Latin-1 text.
    /// </summary>
    public static string ToText(string byteString)
    {
        if (Ascii.IsValid(byteString)) return byteString;
        try
        {
            return StrictUtf8.GetString(ToBytes(byteString));
        }
        catch (DecoderFallbackException)
        {
            return byteString;
        }
    }

    /// <summary>True when the byte string's bytes are valid UTF-8 (ASCII included).</summary>
    public static bool IsUtf8(string byteString) =>
        Ascii.IsValid(byteString) || Utf8.IsValid(ToBytes(byteString));

    /// <summary>
    /// The bytes to hand to the kernel or to exec: a byte string's own bytes; a string with a
    /// character above U+00FF cannot be one, so it is text and goes as UTF-8.
    /// </summary>
    public static byte[] ToNative(string s)
    {
        foreach (var c in s)
            if (c > '\u00FF') return Encoding.UTF8.GetBytes(s);
        return ToBytes(s);
    }
}
