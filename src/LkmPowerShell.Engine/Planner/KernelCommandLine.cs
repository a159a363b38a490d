namespace LkmPowerShell.Engine.Planner;

/// <summary>
/// The module settings on the kernel command line, read as kmod 30 reads /proc/cmdline
/// (libkmod-config.c, kmod_config_parse_kcmdline): <c>module.param=value</c> becomes options for
/// the module, <c>modprobe.blacklist=a,b</c> blacklists modules. Words without a dot before the
/// "=" (<c>quiet</c>, <c>root=/dev/sda1</c>) are the kernel's own and ignored.
/// </summary>
internal static class KernelCommandLine
{
    public const string ProcPath = "/proc/cmdline";

    /// <summary>The kernel limits the command line to a few KiB (COMMAND_LINE_SIZE); kmod reads at most 4 KiB.</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>Reads /proc/cmdline under the root as a byte string (<see cref="ByteText"/>); an empty string when it is missing or unreadable.</summary>
    public static string Read(SystemRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        try
        {
            var path = root.Resolve(ProcPath);
            using var stream = Files.SafeFile.OpenStream(path, Files.FileLimits.KernelFile, root.Within(path));
            var buffer = new byte[MaxLength];
            var n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return ByteText.FromBytes(buffer.AsSpan(0, n)); // bytes, as kmod reads them
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Adds the command line's options and blacklist entries to <paramref name="into"/>.</summary>
    internal static void Parse(string commandLine, ModprobeConfig.Builder into)
    {
        foreach (var (module, param) in Split(commandLine))
        {
            var at = new ConfigLocation(ConfigLocation.KernelCommandLine, 0);
            if (module == "modprobe" && param.StartsWith("blacklist=", StringComparison.Ordinal))
            {
                // kmod adds these as written; normalising them lets "modprobe.blacklist=snd-pcsp" work too.
                foreach (var name in param["blacklist=".Length..].Split(','))
                    if (name.Length > 0) into.Blacklist.Add(new ConfigBlacklist(ModuleName.Normalize(name), at));
            }
            else if (ModprobeConfigParser.Underscores(module) is { } normalized)
            {
                into.Options.Add(new ConfigOptions(normalized, param, at));
            }
            else
            {
                into.Warn(at, $"ignoring bad option '{module}.{param}': '{module}' is not a module name");
            }
        }
    }

    /// <summary>
    /// The (module, "param[=value]") pairs, by kmod's state machine: a word is MODULE.PARAM[=VALUE];
    /// a double quote protects spaces in the value; a word quoted whole by the boot loader
    /// ("mod.p=a b") is re-quoted as mod.p="a b"; anything else malformed is skipped.
    /// </summary>
    public static IReadOnlyList<(string Module, string Parameter)> Split(string commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        if (commandLine.Length > MaxLength) commandLine = commandLine[..MaxLength];
        var result = new List<(string, string)>();
        var state = State.ModName;
        var quoted = false;
        int modStart = 0, paramStart = -1, valueStart = -1, quoteStart = -1;
        for (var p = 0; p <= commandLine.Length; p++)
        {
            var c = p < commandLine.Length ? commandLine[p] : '\0';
            switch (c)
            {
                case '"':
                    quoted = !quoted;
                    if (quoted && state == State.ModName && p == modStart)
                    {
                        quoteStart = p;
                        modStart = p + 1;
                    }
                    else if (state != State.Value)
                    {
                        state = State.Ignore;
                    }
                    break;
                case '\0' or ' ' or '\n' or '\t' or '\v' or '\f' or '\r':
                    if (quoted && state == State.Value)
                    {
                        // A space inside a quoted value; an unclosed quote at the end drops the word, as in kmod.
                    }
                    else if (quoted)
                    {
                        state = State.Ignore;
                    }
                    else if (state is State.Value or State.Param)
                    {
                        var module = commandLine[modStart..(paramStart - 1)];
                        var param = commandLine[paramStart..p];
                        if (quoteStart >= 0 && quoteStart < modStart && valueStart >= 0)
                        {
                            // "mod.param=a b" -> param="a b" (the closing quote is already at the end).
                            param = commandLine[paramStart..valueStart] + "\"" + commandLine[valueStart..p];
                        }
                        result.Add((module, param));
                        state = State.ModName;
                        modStart = p + 1;
                        paramStart = valueStart = quoteStart = -1;
                        quoted = false;
                        break;
                    }
                    else
                    {
                        modStart = p + 1;
                        state = State.ModName;
                        paramStart = valueStart = quoteStart = -1;
                    }
                    break;
                case '.':
                    if (state == State.ModName)
                    {
                        paramStart = p + 1;
                        state = State.Param;
                    }
                    else if (state == State.Param)
                    {
                        state = State.Ignore;
                    }
                    break;
                case '=':
                    if (state == State.Param)
                    {
                        valueStart = p + 1;
                        state = State.Value;
                    }
                    else if (state == State.ModName)
                    {
                        state = State.Ignore;
                    }
                    break;
            }
        }
        return result;
    }

    private enum State { Ignore, ModName, Param, Value }
}
