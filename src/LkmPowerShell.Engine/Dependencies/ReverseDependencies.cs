using System.Text;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Dependencies;

/// <summary>
/// Who needs a module: the modules whose modules.dep line names it (each line is a closure, so
/// these are every user, direct or not, exactly what <c>grep</c> over modules.dep finds), and the
/// modules whose softdep (modprobe.d, modules.softdep) names it or an alias of it. modules.dep is
/// read once as text and searched for the module's path like grep does, so only the matching
/// lines are parsed: "who needs fat" over a whole tree costs one pass of a fast string search.
/// </summary>
public sealed class ReverseDependencies
{
    private readonly ModuleResolver _resolver;
    private readonly string? _text;
    private readonly string _depPath;
    private readonly Closures _closures;
    private readonly Dictionary<string, HashSet<string>> _softdepTargets = new(StringComparer.Ordinal);

    /// <exception cref="ModuleFormatException">modules.dep cannot be read as an index.</exception>
    public ReverseDependencies(ModuleResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        _resolver = resolver;
        _closures = new Closures(resolver.Tree);
        _depPath = System.IO.Path.Join(resolver.Tree.Path, ModulesDepFile.FileName);
        if (!resolver.Tree.HasDependencyIndex)
            throw new ModuleTreeNotIndexedException(resolver.Tree, ModulesDepFile.FileName, "which modules need which");
        try
        {
            _text = Encoding.UTF8.GetString(SafeFile.ReadAll(_depPath, FileLimits.TreeTextFile, resolver.Tree.Root));
        }
        catch (FileNotFoundException)
        {
            _text = null; // only modules.dep.bin: every module's line is asked through the trie
        }
    }

    private ModuleDirectory Tree => _resolver.Tree;

    /// <summary>
    /// The users of each module <paramref name="query"/> resolves to, as rows after a Target row:
    /// without <paramref name="recurse"/> the direct users (modules.dep's reduction) and the modules
    /// whose softdep names it; with it, every user to the end: all of modules.dep's users, the
    /// softdep users, and the users of those, each found through the module named in its Of.
    /// </summary>
    /// <exception cref="ModuleNotFoundException">The name is neither a module, an alias nor built in.</exception>
    public IReadOnlyList<DependencyRow> Users(string query, bool recurse)
    {
        var resolution = _resolver.ResolveOrThrow(query);
        var rows = new List<DependencyRow>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var target in resolution.Modules)
        {
            if (!seen.Add(target.Name)) continue;
            var installed = Tree.FindModule(target.Name);
            rows.Add(Row(query, rows, target.Name, installed?.Path, DependencyRole.Target,
                installed is null && (target.IsBuiltin || Tree.IsBuiltin(target.Name)) ? DependencyAction.Builtin : DependencyAction.None,
                DependencyKind.None, null, "target", null, null, []));
            var work = new Queue<string>();
            work.Enqueue(target.Name);
            while (work.TryDequeue(out var module))
            {
                var users = HardUsers(module);
                var userSet = users.Select(u => u.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var (name, path) in users)
                {
                    // Through: the users of the module that this one also needs; the nearest of them carry the arrow.
                    var via = _closures.Of(name).Where(userSet.Contains).ToList();
                    var nearest = via.Where(v => !via.Any(w => w != v && _closures.Contains(w, v))).ToList();
                    var direct = via.Count == 0;
                    if ((!recurse && !direct) || !seen.Add(name)) continue;
                    rows.Add(Row(query, rows, name, path, DependencyRole.User, DependencyAction.None, DependencyKind.Depends, module,
                        direct ? $"needs {module}" : $"needs {module} through {string.Join(", ", nearest)}", _depPath, direct, via)
                        with { Needs = direct ? [module] : nearest });
                    if (recurse) work.Enqueue(name);
                }
                foreach (var (name, line, named) in SoftdepUsers(module))
                {
                    if (!seen.Add(name)) continue;
                    var pre = line.Pre.Contains(named);
                    rows.Add(Row(query, rows, name, Tree.FindModule(name)?.Path, DependencyRole.User, DependencyAction.None, DependencyKind.Softdep, module,
                        $"softdep {(pre ? "pre" : "post")}: {named}{(ModuleName.Normalize(named) == module ? "" : $" (resolves to {module})")}", line.Source.ToString(), true, [])
                        with { Needs = [module], Optional = true });
                    if (recurse) work.Enqueue(name);
                }
            }
        }
        return rows;
    }

    private DependencyRow Row(string query, List<DependencyRow> rows, string module, string? path, DependencyRole role, DependencyAction action,
        DependencyKind kind, string? of, string reason, string? source, bool? direct, IReadOnlyList<string> via) =>
        new(query, rows.Count + 1, module, path, role, action, kind, of, reason + DependencyRow.Cite(source), source, false, direct, via,
            Tree.KernelVersion, null);

    /// <summary>The modules whose modules.dep line names <paramref name="module"/>, in the file's order, with their files.</summary>
    private List<(string Name, string? Path)> HardUsers(string module)
    {
        var users = new List<(string, string?)>();
        if (Tree.FindModule(module) is not { } installed) return users; // built in or unknown: nothing links against a file
        if (_text is null)
        {
            foreach (var m in Tree.Modules())
                if (m.Name != module && _closures.Contains(m.Name, module)) users.Add((m.Name, m.Path));
            return users;
        }
        var token = installed.IndexPath;
        var text = _text;
        for (var at = text.IndexOf(token, StringComparison.Ordinal); at >= 0; at = text.IndexOf(token, at + token.Length, StringComparison.Ordinal))
        {
            // A dependency entry: after a space, before a space or the end of the line (the module's own line has it first, before ':').
            var end = at + token.Length;
            if (at == 0 || text[at - 1] != ' ' || (end < text.Length && text[end] is not (' ' or '\n' or '\r' or '\t'))) continue;
            var start = text.LastIndexOf('\n', at) + 1;
            var colon = text.IndexOf(':', start);
            if (colon < 0 || colon > at) continue;
            var path = text[start..colon].Trim();
            var name = ModuleName.FromPath(path);
            users.Add((name, Tree.FindModule(name)?.Path));
        }
        return users;
    }

    /// <summary>The softdep lines that name <paramref name="module"/> (by name or by an alias that resolves to it), as (user, line, the name used).</summary>
    private IEnumerable<(string Name, ConfigSoftDependency Line, string Named)> SoftdepUsers(string module)
    {
        foreach (var line in _resolver.Config.SoftDependencies)
            foreach (var named in line.Pre.Concat(line.Post))
                if (NamesModule(named, module))
                {
                    yield return (ModuleName.Normalize(line.ModulePattern), line, named);
                    break;
                }
    }

    private bool NamesModule(string named, string module)
    {
        if (ModuleName.Normalize(named) == module) return true;
        if (!_softdepTargets.TryGetValue(named, out var modules))
        {
            try
            {
                modules = [.. _resolver.Resolve(named).Modules.Select(m => m.Name)];
            }
            catch (InvalidModuleNameException)
            {
                modules = [];
            }
            _softdepTargets[named] = modules;
        }
        return modules.Contains(module);
    }
}
