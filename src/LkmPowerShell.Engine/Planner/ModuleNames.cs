namespace LkmPowerShell.Engine.Planner;

/// <summary>
/// Checks a name or alias before it is looked up: a file path is not a name (it goes through
/// a file path), and a name must not be able to reach outside the module tree or the config directories
/// when it later becomes a file name (persistence writes /etc/modules-load.d/&lt;name&gt;.conf).
/// </summary>
public static class ModuleNames
{
    /// <summary>kmod's buffers are PATH_MAX; no real alias comes close.</summary>
    public const int MaxLength = 4095;

    /// <summary>Null when the name is acceptable, else why not.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "the name is empty";
        if (name.Length > MaxLength) return $"the name is {name.Length:N0} characters long, more than {MaxLength:N0}";
        if (name.Contains('/')) return "it contains '/', so it is a path, not a module name";
        if (name.Contains("..", StringComparison.Ordinal)) return "it contains '..'; module names and aliases never do";
        if (name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))) return "it contains spaces or control characters";
        return null;
    }

    /// <exception cref="InvalidModuleNameException">The name is not acceptable.</exception>
    public static void Validate(string? name)
    {
        if (Problem(name) is { } problem) throw new InvalidModuleNameException(name ?? "", problem);
    }

    /// <summary>
    /// A module name usable as a file name under /etc (persistence): letters, digits, "_" and "-" only.
    /// </summary>
    public static bool IsPlainModuleName(string name) =>
        name.Length is > 0 and <= 255 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
