using System.Globalization;
using System.Numerics;

namespace LkmPowerShell.Engine.Configuration;

/// <summary>
/// Whether a value fits a module parameter's type as the kernel parses it (kernel/params.c):
/// integers with kstrto*(base 0), so <c>0x</c> hex and leading-zero octal; bool and invbool with
/// kstrtobool; charp up to 1,024 bytes; <c>array of T</c> as comma-separated T. Types the check
/// does not know pass, and the kernel has the last word.
/// </summary>
internal static class ParameterValueCheck
{
    /// <summary>The problem with <paramref name="value"/> for <paramref name="type"/> (modinfo's parmtype), or null when it fits.</summary>
    public static string? Problem(string? type, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (type is null) return null;
        if (type.StartsWith("array of ", StringComparison.Ordinal))
        {
            var element = type["array of ".Length..];
            foreach (var part in value.Split(','))
                if (Problem(element, part) is { } p) return $"element '{part}': {p}";
            return null;
        }
        return type switch
        {
            "byte" => Integer(value, 0, byte.MaxValue, signed: false),
            "short" => Integer(value, short.MinValue, short.MaxValue, signed: true),
            "ushort" => Integer(value, 0, ushort.MaxValue, signed: false),
            "int" => Integer(value, int.MinValue, int.MaxValue, signed: true),
            "uint" or "hexint" => Integer(value, 0, uint.MaxValue, signed: false),
            "long" => Integer(value, long.MinValue, long.MaxValue, signed: true),
            "ulong" or "ullong" => Integer(value, 0, ulong.MaxValue, signed: false),
            "bool" or "invbool" => IsBool(value) ? null : "not a boolean: use 1/0, Y/N, y/n, on/off",
            "charp" => value.Length > 1024 ? $"{value.Length:N0} characters; the kernel takes at most 1,024 for a charp" : null,
            _ => null,
        };
    }

    private static bool IsBool(string v)
    {
        var s = v.EndsWith('\n') ? v[..^1] : v;
        if (s.Length == 0) return false;
        return s[0] is 'y' or 'Y' or '1' or 'n' or 'N' or '0'
            || (s.Length >= 2 && (s[0] is 'o' or 'O') && (s[1] is 'n' or 'N' or 'f' or 'F'));
    }

    /// <summary>kstrto*(s, 0): optional sign (minus only for signed types), 0x/0 prefixes, one trailing newline.</summary>
    private static string? Integer(string value, BigInteger min, BigInteger max, bool signed)
    {
        var s = value.EndsWith('\n') ? value[..^1] : value;
        var negative = false;
        if (s.StartsWith('+')) s = s[1..];
        else if (s.StartsWith('-'))
        {
            if (!signed) return "a negative number for an unsigned parameter";
            negative = true;
            s = s[1..];
        }
        BigInteger n;
        if (s.Length > 2 && (s.StartsWith("0x") || s.StartsWith("0X")))
        {
            if (!s[2..].All(Uri.IsHexDigit)) return "not a number";
            n = BigInteger.Parse("0" + s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }
        else if (s.Length > 1 && s[0] == '0')
        {
            if (!s.All(c => c is >= '0' and <= '7')) return "not a number (a leading 0 means octal)";
            n = s.Aggregate(BigInteger.Zero, (acc, c) => acc * 8 + (c - '0'));
        }
        else
        {
            if (s.Length == 0 || !s.All(char.IsAsciiDigit)) return "not a number";
            n = BigInteger.Parse(s, CultureInfo.InvariantCulture);
        }
        if (negative) n = -n;
        return n < min || n > max ? $"out of range ({min} to {max})" : null;
    }
}
