using System.Text;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>One file of depmod's output, entirely in memory (or, for a file already on disk as it would be written, read when first asked for).</summary>
public sealed class DepmodFile
{
    private byte[]? _content;
    private readonly Func<byte[]>? _load;

    public DepmodFile(string name, byte[] content)
    {
        Name = name;
        _content = content;
    }

    /// <summary>A file whose content is only fetched if someone asks for it.</summary>
    internal DepmodFile(string name, Func<byte[]> load)
    {
        Name = name;
        _load = load;
    }

    public string Name { get; }

    public byte[] Content => _content ??= _load!();
}

/// <summary>
/// Renders every output file of depmod (tools/depmod.c, depmod_output and the output_* functions)
/// in memory, in kmod's order of files, from the ordered modules and their resolved dependencies.
/// </summary>
internal sealed class DepmodOutput
{
    private readonly IReadOnlyList<ModuleCandidate> _modules;
    private readonly IReadOnlyList<ModuleFacts> _facts;
    private DependencyResolver _resolved = null!;
    private IReadOnlyList<(string Symbol, int Owner)> _symbolLines = [];
    private readonly Action<DepmodWarning> _warn;

    public DepmodOutput(IReadOnlyList<ModuleCandidate> modules, IReadOnlyList<ModuleFacts> facts, Action<DepmodWarning> warn)
    {
        _modules = modules;
        _facts = facts;
        _warn = warn;
    }

    public int AliasCount { get; private set; }

    /// <summary>Lines of modules.symbols (known once <see cref="Render"/> has resolved).</summary>
    public int SymbolCount => _symbolLines.Count;

    // builtin: modules.builtin's bytes, or null when it is missing.
    // builtinModinfo: modules.builtin.modinfo's bytes, or null when it is missing.
    // resolve: works out the dependencies (DependencyResolver.Resolve, given the callback for its
    // symbol lines); it runs on this thread while the files that need only the modules' own facts
    // are rendered beside it, and those that need only the symbol table once that is known.
    public List<DepmodFile> Render(IndexLayout layout, bool weakdeps, byte[]? builtin, byte[]? builtinModinfo, int parallelism, CancellationToken cancel,
        Func<Action<IReadOnlyList<(string Symbol, int Owner)>>, DependencyResolver> resolve, DepmodTimeline? timeline = null)
    {
        string[] lines = [];
        // Each file is independent of the others: render them side by side. Warnings are kept per
        // file and passed on afterwards, in file order, on the caller's thread. Each file starts as
        // soon as what it needs is known: the modules' own facts (at once, before resolution), the
        // symbol table, or the dependencies.
        var jobs = new List<RenderJob>
        {
            new("modules.dep", Needs.Dependencies, _ => Latin1(sb => { foreach (var l in lines) sb.Append(l).Append('\n'); })),
            new("modules.dep.bin", Needs.Dependencies, _ => DepIndex(lines, layout)),
            new("modules.alias", Needs.OwnFacts, _ => Aliases()),
            new("modules.alias.bin", Needs.OwnFacts, warn => AliasIndex(layout, warn)),
            new("modules.softdep", Needs.OwnFacts, _ => ModinfoLines("# Soft dependencies extracted from modules themselves.\n", "softdep", f => f.Softdeps)),
        };
        // modules.weakdep (kmod 33+, output_weakdeps): the header line, then "weakdep <module> <value>"
        // for every .modinfo weakdep= value, modules in index order, values in .modinfo order;
        // written after modules.softdep. modprobe reads it like a depmod.d "weakdep" line.
        if (weakdeps)
            jobs.Add(new("modules.weakdep", Needs.OwnFacts, _ => ModinfoLines("# Weak dependencies extracted from modules themselves.\n", "weakdep", f => f.Weakdeps)));
        jobs.Add(new("modules.symbols", Needs.SymbolTable, _ => Latin1(sb =>
        {
            sb.Append("# Aliases for symbols, used by symbol_request().\n");
            foreach (var (symbol, owner) in _symbolLines)
                sb.Append("alias symbol:").Append(symbol).Append(' ').Append(_modules[owner].Name).Append('\n');
        })));
        jobs.Add(new("modules.symbols.bin", Needs.SymbolTable, _ => SymbolIndex(layout)));
        jobs.Add(new("modules.builtin.bin", Needs.OwnFacts, warn => builtin is null ? [] : BuiltinIndex(builtin, layout, warn)));
        jobs.Add(new("modules.builtin.alias.bin", Needs.OwnFacts, warn => builtinModinfo is null ? [] : BuiltinAliasIndex(builtinModinfo, layout, warn)));
        jobs.Add(new("modules.devname", Needs.OwnFacts, warn => DevnameFile(warn)));

        var contents = new byte[jobs.Count][];
        var warnings = new List<DepmodWarning>[jobs.Count];
        void RenderAll(Needs needs, int degree, CancellationToken token)
        {
            var mine = new List<int>();
            for (var i = 0; i < jobs.Count; i++)
                if (jobs[i].Needs == needs)
                    mine.Add(i);
            Parallel.For(0, mine.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, degree), CancellationToken = token }, k =>
            {
                var i = mine[k];
                var list = warnings[i] = [];
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                contents[i] = jobs[i].Render(list.Add);
                timeline?.Add($"  render {jobs[i].Name} (parallel)", System.Diagnostics.Stopwatch.GetElapsedTime(started));
            });
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var ownFactsFiles = Task.Run(() => RenderAll(Needs.OwnFacts, parallelism - 1, stop.Token), stop.Token);
        Task? symbolFiles = null;
        try
        {
            _resolved = resolve(symbolLines =>
            {
                _symbolLines = symbolLines;
                // A resolution that failed (a cycle) may have left here already: then there is nothing to start.
                if (!stop.IsCancellationRequested)
                    symbolFiles = Task.Run(() => RenderAll(Needs.SymbolTable, parallelism - 1, stop.Token), CancellationToken.None);
            });
            timeline?.Mark("resolve (the files of the modules' own facts, then of the symbol table, rendered beside it)");
            if (symbolFiles is null)
            {
                _symbolLines = _resolved.SymbolLines;
                RenderAll(Needs.SymbolTable, parallelism, cancel);
            }
            lines = DependencyLines();
            RenderAll(Needs.Dependencies, parallelism, cancel);
            ownFactsFiles.GetAwaiter().GetResult();
            symbolFiles?.GetAwaiter().GetResult();
        }
        catch
        {
            stop.Cancel();
            foreach (var task in new[] { ownFactsFiles, symbolFiles })
            {
                try { task?.Wait(); }
                catch (AggregateException) { }
            }
            throw;
        }
        foreach (var list in warnings)
            foreach (var w in list)
                _warn(w);
        var files = new List<DepmodFile>(jobs.Count);
        for (var i = 0; i < jobs.Count; i++)
            files.Add(new DepmodFile(jobs[i].Name, contents[i]));
        return files;
    }

    /// <summary>What a file is made from, hence when it can start.</summary>
    private enum Needs { OwnFacts, SymbolTable, Dependencies }

    /// <summary>One file to render: what it needs, and how.</summary>
    private sealed record RenderJob(string Name, Needs Needs, Func<Action<DepmodWarning>, byte[]> Render);

    private static byte[] Latin1(Action<StringBuilder> write)
    {
        var sb = new StringBuilder();
        write(sb);
        return Encoding.Latin1.GetBytes(sb.ToString());
    }

    /// <summary>"path: dep dep ...", each line without its newline.</summary>
    private string[] DependencyLines()
    {
        var lines = new string[_modules.Count];
        var sb = new StringBuilder();
        for (var m = 0; m < _modules.Count; m++)
        {
            sb.Clear().Append(_modules[m].OutputPath).Append(':');
            foreach (var d in _resolved.Closures[m])
                sb.Append(' ').Append(_modules[d].OutputPath);
            lines[m] = sb.ToString();
        }
        return lines;
    }

    private byte[] DepIndex(string[] lines, IndexLayout layout)
    {
        var index = new IndexBuilder();
        for (var m = 0; m < _modules.Count; m++)
            index.Add(_modules[m].Name, lines[m], (uint)m);
        return index.Build(layout);
    }

    private byte[] Aliases()
    {
        var count = 0;
        var bytes = Latin1(sb =>
        {
            sb.Append("# Aliases extracted from modules themselves.\n");
            for (var m = 0; m < _modules.Count; m++)
                foreach (var alias in _facts[m].Aliases)
                {
                    sb.Append("alias ").Append(alias).Append(' ').Append(_modules[m].Name).Append('\n');
                    count++;
                }
        });
        AliasCount = count;
        return bytes;
    }

    private byte[] AliasIndex(IndexLayout layout, Action<DepmodWarning> warn)
    {
        var index = new IndexBuilder();
        for (var m = 0; m < _modules.Count; m++)
            foreach (var alias in _facts[m].Aliases)
            {
                if (ModuleName.TryNormalizeAlias(alias) is { } key)
                    index.Add(key, _modules[m].Name, (uint)m);
                else
                    warn(new DepmodWarning(DepmodWarningKind.BadAlias, _modules[m].FilePath, null, $"Unmatched bracket in {alias}"));
            }
        return index.Build(layout);
    }

    private byte[] ModinfoLines(string header, string keyword, Func<ModuleFacts, string[]> values) => Latin1(sb =>
    {
        sb.Append(header);
        for (var m = 0; m < _modules.Count; m++)
            foreach (var value in values(_facts[m]))
                sb.Append(keyword).Append(' ').Append(_modules[m].Name).Append(' ').Append(value).Append('\n');
    });

    private byte[] SymbolIndex(IndexLayout layout)
    {
        var index = new IndexBuilder();
        foreach (var (symbol, owner) in _symbolLines)
            index.Add("symbol:" + symbol, _modules[owner].Name, (uint)owner);
        return index.Build(layout);
    }

    /// <summary>
    /// modules.builtin.bin: each line that starts with an ASCII letter gives a key, the module name
    /// of its path (up to the first "." of the file name), with an empty value of priority 0.
    /// </summary>
    private static byte[] BuiltinIndex(byte[] builtin, IndexLayout layout, Action<DepmodWarning> warn)
    {
        var index = new IndexBuilder();
        var text = Encoding.Latin1.GetString(builtin);
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            end = end < 0 ? text.Length : end + 1;
            var line = text[start..end]; // with its newline, as fgets returns it
            start = end;
            if (!char.IsAsciiLetter(line[0]))
            {
                warn(new DepmodWarning(DepmodWarningKind.InputFile, "modules.builtin", null, $"Invalid modules.builtin line: {line}"));
                continue;
            }
            var basename = line[(line.LastIndexOf('/') + 1)..];
            if (basename.Length == 0)
                continue;
            var nul = basename.IndexOf('\0');
            if (nul >= 0) basename = basename[..nul];
            index.Add(ModuleName.FromPath(basename), "", 0);
        }
        return index.Build(layout);
    }

    /// <summary>
    /// modules.builtin.alias.bin from "module.key=value\0" records, parsed the way kmod's
    /// flush_stream_to reads them (a record that breaks the pattern resynchronises as kmod's does).
    /// </summary>
    private static byte[] BuiltinAliasIndex(byte[] modinfo, IndexLayout layout, Action<DepmodWarning> warn)
    {
        const int PathMax = 4096;
        var index = new IndexBuilder();
        var at = 0;
        var eof = false;
        int Getc()
        {
            if (at < modinfo.Length) return modinfo[at++];
            eof = true;
            return -1;
        }
        string ReadTo(char end, out bool ok)
        {
            var sb = new StringBuilder();
            int c;
            for (c = Getc(); c != -1 && c != end && c != 0 && sb.Length < PathMax; c = Getc())
                sb.Append((char)c);
            if (sb.Length == PathMax) sb.Length--;
            ok = c == end;
            return ok ? sb.ToString() : "";
        }
        void SkipTo(char end)
        {
            int c;
            for (c = Getc(); c != -1 && c != end && c != 0; c = Getc()) { }
        }
        while (!eof)
        {
            var module = ReadTo('.', out _);
            if (module.Length == 0) continue;
            var key = ReadTo('=', out _);
            if (key != "alias")
            {
                SkipTo('\0');
                continue;
            }
            var value = ReadTo('\0', out _);
            if (value.Length == 0) continue;
            if (ModuleName.TryNormalizeAlias(value) is { } alias)
                index.Add(alias, module, 0);
            else
                warn(new DepmodWarning(DepmodWarningKind.BadAlias, "modules.builtin.modinfo", null, $"Unmatched bracket in {value}"));
        }
        return index.Build(layout);
    }

    /// <summary>
    /// modules.devname: for a module with a "devname:" alias and a char-major-M-m or
    /// block-major-M-m alias, "name devname cM:m"; the header only when there is a line.
    /// </summary>
    private byte[] DevnameFile(Action<DepmodWarning> warn) => Latin1(sb =>
    {
        var empty = true;
        for (var m = 0; m < _modules.Count; m++)
        {
            string? devname = null;
            var type = '\0';
            uint major = 0, minor = 0;
            foreach (var value in _facts[m].Aliases)
            {
                if (value.StartsWith("devname:", StringComparison.Ordinal))
                    devname = value["devname:".Length..];
                else if (ScanMajorMinor(value, "char-major-", out var maj, out var min))
                    (type, major, minor) = ('c', maj, min);
                else if (ScanMajorMinor(value, "block-major-", out maj, out min))
                    (type, major, minor) = ('b', maj, min);
                if (type != '\0' && devname is not null)
                    break;
            }
            if (devname is null)
                continue;
            if (type == '\0')
            {
                warn(new DepmodWarning(DepmodWarningKind.BadAlias, _modules[m].FilePath, null,
                    $"Module '{_modules[m].Name}' has devname ({devname}) but lacks major and minor information. Ignoring."));
                continue;
            }
            if (empty)
            {
                sb.Append("# Device nodes to trigger on-demand module loading.\n");
                empty = false;
            }
            sb.Append(_modules[m].Name).Append(' ').Append(devname).Append(' ').Append(type).Append(major).Append(':').Append(minor).Append('\n');
        }
    });

    /// <summary>sscanf(value, "PREFIX%u-%u") == 2, with %u's rules (leading blanks, a sign, decimal digits, wrapping).</summary>
    internal static bool ScanMajorMinor(string value, string prefix, out uint major, out uint minor)
    {
        major = minor = 0;
        if (!value.StartsWith(prefix, StringComparison.Ordinal))
            return false;
        var i = prefix.Length;
        if (!ScanUnsigned(value, ref i, out major) || i >= value.Length || value[i] != '-')
            return false;
        i++;
        return ScanUnsigned(value, ref i, out minor);
    }

    private static bool ScanUnsigned(string s, ref int i, out uint result)
    {
        result = 0;
        while (i < s.Length && s[i] is ' ' or '\t' or '\n' or '\v' or '\f' or '\r') i++;
        var negative = false;
        if (i < s.Length && s[i] is '+' or '-') { negative = s[i] == '-'; i++; }
        var start = i;
        ulong v = 0;
        var overflow = false;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            var next = v * 10 + (ulong)(s[i] - '0');
            if (next / 10 != v) overflow = true;
            v = next;
            i++;
        }
        if (i == start) return false;
        if (overflow) v = ulong.MaxValue;
        result = (uint)(negative ? (ulong)(-(long)v) : v);
        return true;
    }
}
