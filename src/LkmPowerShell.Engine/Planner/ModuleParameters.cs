using System.Collections;
using System.Globalization;
using System.Text;

namespace LkmPowerShell.Engine.Planner;

/// <summary>One module parameter: <c>name</c> or <c>name=value</c>.</summary>
public sealed record ModuleParameter(string Name, string? Value)
{
    /// <summary>
    /// As the kernel's parser wants it: a value with blanks is wrapped in double quotes (modprobe
    /// does the same with its arguments, options_from_array); a value already quoted is kept.
    /// </summary>
    public override string ToString()
    {
        if (Value is null) return Name;
        var needsQuotes = Value.Any(char.IsWhiteSpace) && !(Value.StartsWith('"') || Value.StartsWith('\''));
        return needsQuotes ? $"{Name}=\"{Value}\"" : $"{Name}={Value}";
    }
}

/// <summary>
/// User-supplied module parameters: parsed from a string such as <c>io=0x300 irq=11 name="a b"</c>
/// (split like the kernel's next_arg: blanks separate, double quotes protect blanks), or built
/// from a dictionary, and rendered back to the one string init_module takes.
/// </summary>
public static class ModuleParameters
{
    /// <summary>The kernel rejects larger parameter strings long before this.</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>
    /// A parameter's name as the kernel compares it (kernel/params.c parameq): "-" and "_" are the
    /// same character, so "pcm-devs" is "pcm_devs". The one place that says so.
    /// </summary>
    public static string NormalizeName(string name) => name.Replace('-', '_');

    /// <summary>Whether two parameter names are the same parameter to the kernel.</summary>
    public static bool SameName(string a, string b) => NormalizeName(a) == NormalizeName(b);

    /// <exception cref="FormatException">An unclosed quote, a missing name, or a control character.</exception>
    public static IReadOnlyList<ModuleParameter> Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        if (text.Length > MaxLength) throw new FormatException($"The parameter string is {text.Length:N0} characters long, more than {MaxLength:N0}.");
        var result = new List<ModuleParameter>();
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length) break;
            var start = i;
            var quoted = false;
            var word = new StringBuilder();
            for (; i < text.Length && (quoted || !char.IsWhiteSpace(text[i])); i++)
            {
                if (text[i] == '"') quoted = !quoted;
                else word.Append(text[i]);
            }
            if (quoted) throw new FormatException($"Unclosed double quote in module parameters at position {start + 1}: {text[start..]}");
            result.Add(Split(word.ToString()));
        }
        return result;
    }

    /// <summary>
    /// From a dictionary (a PowerShell hashtable): null is a bare flag, true/false become 1/0 (the
    /// kernel's bool parser takes both), lists become comma-separated arrays, numbers use the
    /// invariant culture.
    /// </summary>
    public static IReadOnlyList<ModuleParameter> FromDictionary(IEnumerable<KeyValuePair<string, object?>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var result = new List<ModuleParameter>();
        foreach (var (key, value) in values)
        {
            var parameter = new ModuleParameter(key, value is null ? null : FormatValue(value));
            Check(parameter);
            result.Add(parameter);
        }
        return result;
    }

    /// <summary>A non-generic dictionary (System.Collections.Hashtable, OrderedDictionary), keys as strings.</summary>
    public static IReadOnlyList<ModuleParameter> FromDictionary(IDictionary values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var pairs = new List<KeyValuePair<string, object?>>();
        foreach (DictionaryEntry e in values)
            pairs.Add(new(Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "", e.Value));
        return FromDictionary(pairs);
    }

    /// <summary>The string passed to the kernel: parameters in order, separated by one space; null when there are none.</summary>
    public static string? Format(IEnumerable<ModuleParameter>? parameters)
    {
        if (parameters is null) return null;
        var list = parameters.ToList();
        foreach (var p in list) Check(p);
        return list.Count == 0 ? null : string.Join(' ', list);
    }

    private static ModuleParameter Split(string word)
    {
        var eq = word.IndexOf('=');
        var parameter = eq < 0 ? new ModuleParameter(word, null) : new ModuleParameter(word[..eq], word[(eq + 1)..]);
        Check(parameter);
        return parameter;
    }

    private static void Check(ModuleParameter p)
    {
        if (p.Name.Length == 0) throw new FormatException($"A module parameter has no name: '{p}'.");
        if (p.Name.Any(c => char.IsWhiteSpace(c) || c is '=' or '"' || char.IsControl(c)))
            throw new FormatException($"'{p.Name}' is not a parameter name: names have no blanks, quotes or '='.");
        if (p.Value is { } v)
        {
            if (v.Any(c => char.IsControl(c) && c != '\t'))
                throw new FormatException($"The value of parameter {p.Name} contains a control character (a newline?); the kernel's parser cannot take it.");
            if (v.Contains('"') && v.Any(char.IsWhiteSpace) && !(v.StartsWith('"') && v.EndsWith('"') && v.Count(c => c == '"') == 2))
                throw new FormatException($"The value of parameter {p.Name} has both blanks and double quotes; the kernel's parser has no escape for that.");
        }
    }

    private static string FormatValue(object value) => value switch
    {
        string s => s,
        bool b => b ? "1" : "0",
        IEnumerable list => string.Join(',', list.Cast<object?>().Select(o => o is null ? "" : FormatValue(o))),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
