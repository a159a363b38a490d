namespace LkmPowerShell.Engine.Planner;

/// <summary>
/// Parses one modprobe.d file the way kmod 30 does (libkmod-config.c, kmod_config_parse): a
/// logical line joins physical lines ending in <c>\</c>; a backslash before any other character is
/// dropped; a line starting with <c>#</c> is a comment; the first word is the command. A bad line
/// becomes a warning naming file and line, as kmod prints "ignoring bad line" and carries on.
/// The file is read as bytes and every value kept as a byte string (<see cref="ByteText"/>), so a
/// command or option with Latin-1 bytes is run and printed byte for byte as kmod would, and a NUL
/// ends its line as it ends kmod's C string.
/// </summary>
/// <remarks>
/// Two bounds kmod does not have: a file over <see cref="MaxFileBytes"/> is skipped, a logical line
/// over <see cref="MaxLineLength"/> bytes is ignored, each with a warning.
/// </remarks>
internal static class ModprobeConfigParser
{
    /// <summary>Real configuration files are a few KiB; anything past this is not one.</summary>
    public static readonly int MaxFileBytes = (int)Files.FileLimits.ConfigurationFile.MaxBytes;

    /// <summary>A logical line (after joining continuations) longer than this is skipped with a warning.</summary>
    public const int MaxLineLength = 64 * 1024;

    private static readonly char[] Blank = [' ', '\t'];

    /// <summary>C's isspace in the C locale, which kmod's softdep parser uses (not .NET's wider white space).</summary>
    private static readonly char[] CSpace = [' ', '\t', '\n', '\v', '\f', '\r'];

    public static void ParseFile(string path, ModprobeConfig.Builder into, SystemRoot? within = null)
    {
        byte[] bytes;
        try
        {
            // Never blocks (a FIFO is refused), bounded, and inside the root when it came from one.
            bytes = Files.SafeFile.ReadAll(path, Files.FileLimits.ConfigurationFile, within);
        }
        catch (Files.FileRefusedException e) when (e.Reason == Files.FileRefusal.TooLarge)
        {
            into.Warn(new ConfigLocation(path, 0), $"the file is more than the {MaxFileBytes:N0} bytes a modprobe.d file may have; it was skipped");
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            into.Warn(new ConfigLocation(path, 0), $"could not be read ({e.Message}); it was skipped");
            return;
        }
        Parse(ByteText.FromBytes(bytes), path, into);
    }

    /// <summary>Parses a file's bytes, given as a byte string (<see cref="ByteText.FromBytes"/>).</summary>
    public static void Parse(string bytes, string fileName, ModprobeConfig.Builder into)
    {
        foreach (var (line, number) in LogicalLines(bytes))
        {
            var location = new ConfigLocation(fileName, number);
            if (line.Length > MaxLineLength)
            {
                into.Warn(location, $"the line is more than {MaxLineLength:N0} bytes long; it was ignored (kmod has no such limit)");
                continue;
            }
            ParseLine(line, location, into);
        }
    }

    /// <summary>Logical lines (<see cref="ConfigLines"/>), each numbered by its first physical line.</summary>
    internal static IEnumerable<(string Line, int Number)> LogicalLines(string text) =>
        ConfigLines.Read(text, MaxLineLength).Select(l => (l.Text, l.FirstNumber));

    private static void ParseLine(string line, ConfigLocation at, ModprobeConfig.Builder into)
    {
        if (line.Length == 0 || line[0] == '#') return;
        var pos = 0;
        var command = NextToken(line, ref pos);
        if (command is null) return;
        switch (command)
        {
            case "alias":
            {
                var pattern = Underscores(NextToken(line, ref pos));
                var module = Underscores(NextToken(line, ref pos));
                if (pattern is null || module is null) break;
                into.Aliases.Add(new ConfigAlias(pattern, module, at));
                return;
            }
            case "blacklist":
            {
                var module = Underscores(NextToken(line, ref pos));
                if (module is null) break;
                into.Blacklist.Add(new ConfigBlacklist(module, at));
                return;
            }
            case "options":
            {
                var module = Underscores(NextToken(line, ref pos));
                var rest = Rest(line, pos);
                if (module is null || rest is null) break;
                // kmod turns tabs into spaces so that the kernel's parser sees one separator.
                into.Options.Add(new ConfigOptions(module, rest.Replace('\t', ' '), at));
                return;
            }
            case "install" or "remove":
            {
                var module = Underscores(NextToken(line, ref pos));
                var rest = Rest(line, pos);
                if (module is null || rest is null) break;
                (command == "install" ? into.InstallCommands : into.RemoveCommands).Add(new ConfigCommand(module, rest, at));
                return;
            }
            case "softdep":
            {
                var module = Underscores(NextToken(line, ref pos));
                var rest = Rest(line, pos);
                if (module is null || rest is null) break;
                var (pre, post) = SplitSoftdep(rest);
                into.SoftDependencies.Add(new ConfigSoftDependency(module, pre, post, at));
                // kmod 30 counts the blank after the module name's separator into the first word,
                // so " pre:" is no keyword to it and the line's names are dropped (a kmod fault, not copied).
                if (Array.IndexOf(CSpace, rest[0]) >= 0 && rest.TrimStart(CSpace).Split(CSpace)[0] is "pre:" or "post:")
                    into.Warn(at, $"kmod 30 ignores the modules of this softdep line (more than one blank before '{rest.TrimStart(CSpace).Split(CSpace)[0]}' hides the keyword from it); LkmPowerShell reads them. Use one blank to have both agree");
                return;
            }
            case "weakdep":
            {
                var module = Underscores(NextToken(line, ref pos));
                var rest = Rest(line, pos);
                if (module is null || rest is null) break;
                var names = rest.Split(CSpace, StringSplitOptions.RemoveEmptyEntries);
                into.WeakDependencies.Add(new ConfigWeakDependency(module, names, at));
                return;
            }
            case "include" or "config":
                into.Warn(at, $"the '{command}' command is obsolete and ignored (kmod no longer reads it); put the lines in a file of their own under modprobe.d");
                return;
        }
        into.Warn(at, $"ignoring bad line starting with '{command}': expected 'alias PATTERN MODULE', 'options MODULE PARAMS', " +
            "'install|remove MODULE COMMAND', 'blacklist MODULE', 'softdep MODULE pre: ... post: ...' or 'weakdep MODULE NAMES'");
    }

    /// <summary>strtok_r(" \t"): the next word, the position after the one separator that ended it.</summary>
    private static string? NextToken(string line, ref int pos)
    {
        while (pos < line.Length && (line[pos] == ' ' || line[pos] == '\t')) pos++;
        if (pos >= line.Length) return null;
        var end = line.IndexOfAny(Blank, pos);
        if (end < 0) end = line.Length;
        var token = line[pos..end];
        pos = Math.Min(end + 1, line.Length);
        return token;
    }

    /// <summary>
    /// strtok_r("\0"): everything after the separator that ended the previous word, leading and
    /// trailing blanks included, as kmod passes it on; null when nothing is left.
    /// </summary>
    private static string? Rest(string line, int pos) => pos < line.Length ? line[pos..] : null;

    /// <summary>
    /// kmod's underscores(), which is alias normalisation (<see cref="ModuleName.TryNormalizeAlias"/>):
    /// "-" to "_" outside "[...]"; null (a bad line) for a "]" without its "[" or an unclosed "[".
    /// </summary>
    internal static string? Underscores(string? s) => s is null ? null : ModuleName.TryNormalizeAlias(s);

    /// <summary>"pre: a b post: c" split on C's white space as kmod's config parser splits it (<see cref="ModuleTree.ModulesSoftdepFile.Split"/>).</summary>
    internal static (string[] Pre, string[] Post) SplitSoftdep(string text) =>
        ModuleTree.ModulesSoftdepFile.Split(text.Split(CSpace, StringSplitOptions.RemoveEmptyEntries));
}
