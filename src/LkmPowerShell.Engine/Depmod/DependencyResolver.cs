namespace LkmPowerShell.Engine.Depmod;

/// <summary>
/// The middle of depmod (depmod_load): the symbol table, each module's direct dependencies, the
/// topological sort and the closures modules.dep prints, with kmod 30's exact order rules.
/// Modules are given in their final order (index = kmod's mod->idx).
/// </summary>
internal sealed class DependencyResolver
{
    private const int SymbolBuckets = 2048;

    private readonly IReadOnlyList<ModuleCandidate> _modules;
    private readonly IReadOnlyList<ModuleFacts> _facts;
    // kmod's symbol table: name -> slot in the two lists (a dictionary of ints, which the framework
    // has precompiled, rather than of a tuple a fresh process would JIT-compile; see ArrayBuilder).
    private readonly Dictionary<string, int> _symbols = new(StringComparer.Ordinal);
    private ArrayBuilder<int> _owners = new(0);
    private ArrayBuilder<ulong> _crcs = new(0);

    private void SetSymbol(string name, int owner, ulong crc)
    {
        if (_symbols.TryGetValue(name, out var slot))
        {
            _owners[slot] = owner;
            _crcs[slot] = crc;
            return;
        }
        _symbols[name] = _owners.Count;
        _owners.Add(owner);
        _crcs.Add(crc);
    }

    private DependencyResolver(IReadOnlyList<ModuleCandidate> modules, IReadOnlyList<ModuleFacts> facts)
    {
        _modules = modules;
        _facts = facts;
    }

    /// <summary>For each module, its whole dependency closure (module indexes) in modules.dep's order.</summary>
    public required int[][] Closures { get; init; }

    /// <summary>modules.symbols' lines: each symbol a module exports with its owner, in kmod's hash order.</summary>
    public required IReadOnlyList<(string Symbol, int Owner)> SymbolLines { get; init; }

    // kernel: The kernel's exports (-E/-F); null: no checks, as without -e.
    // symbolLinesReady: called (on another thread) as soon as SymbolLines are known, before the
    // closures are: what needs only them can start.
    public static DependencyResolver Resolve(IReadOnlyList<ModuleCandidate> modules, IReadOnlyList<ModuleFacts> facts,
        KernelSymbols? kernel, Action<DepmodWarning> warn, CancellationToken cancel,
        Action<IReadOnlyList<(string Symbol, int Owner)>>? symbolLinesReady = null)
    {
        var r = new DependencyResolver(modules, facts) { Closures = [], SymbolLines = [] };
        return r.Run(kernel, warn, cancel, symbolLinesReady);
    }

    private DependencyResolver Run(KernelSymbols? kernel, Action<DepmodWarning> warn, CancellationToken cancel,
        Action<IReadOnlyList<(string Symbol, int Owner)>>? symbolLinesReady)
    {
        // kmod's symbol table: the kernel's exports first (owner none), then the fake symbols the
        // loader provides, then each module's exports in module order; a later add replaces.
        if (kernel is not null)
        {
            foreach (var s in kernel.Symbols)
                SetSymbol(s.Name, -1, s.Crc);
            SetSymbol("__this_module", -1, 0);
            SetSymbol("_GLOBAL_OFFSET_TABLE_", -1, 0);
            if (!_symbols.ContainsKey("TOC."))
                SetSymbol("TOC.", -1, 0);
        }
        for (var m = 0; m < _modules.Count; m++)
            foreach (var e in _facts[m].Exports)
                SetSymbol(e.Name, m, e.Crc);
        cancel.ThrowIfCancellationRequested();
        // modules.symbols' order needs only the table: on another core while the dependencies are worked out.
        var symbolLines = Task.Run(() =>
        {
            var lines = SymbolLinesInHashOrder();
            symbolLinesReady?.Invoke(lines);
            return lines;
        }, cancel);

        var n = _modules.Count;
        var deps = new List<int>[n];
        var users = new int[n];
        var checkUnknown = kernel is not null;
        var checkVersions = kernel is { HasCrcs: true };
        for (var m = 0; m < n; m++)
        {
            var list = deps[m] = [];
            foreach (var need in _facts[m].Needs)
            {
                var name = need.Name.StartsWith('.') ? need.Name[1..] : need.Name; // ppc64: .foo is foo
                if (!_symbols.TryGetValue(name, out var slot))
                {
                    if (checkUnknown && !need.IsWeak)
                        warn(new DepmodWarning(DepmodWarningKind.UnknownSymbol, _modules[m].FilePath, need.Name,
                            $"{_modules[m].KmodPath} needs unknown symbol {need.Name}"));
                    continue;
                }
                var owner = _owners[slot];
                if (checkVersions && _crcs[slot] != need.Crc && !need.IsWeak)
                    warn(new DepmodWarning(DepmodWarningKind.VersionMismatch, _modules[m].FilePath, need.Name,
                        $"{_modules[m].KmodPath} disagrees about version of symbol {need.Name}"));
                if (owner < 0 || list.Contains(owner))
                    continue;
                list.Add(owner);
                users[owner]++;
            }
        }
        cancel.ThrowIfCancellationRequested();

        var sortIndex = TopologicalSort(deps, users);
        cancel.ThrowIfCancellationRequested();

        var closures = new int[n][];
        var seen = new int[n];
        Array.Fill(seen, -1);
        var stack = new ArrayBuilder<int>(64);
        for (var m = 0; m < n; m++)
        {
            var closure = new List<int>();
            stack.Add(m);
            while (stack.Count > 0)
            {
                foreach (var d in deps[stack.Pop()])
                {
                    if (seen[d] == m) continue;
                    seen[d] = m;
                    closure.Add(d);
                    stack.Add(d);
                }
            }
            closure.Sort((a, b) => sortIndex[a].CompareTo(sortIndex[b]));
            closures[m] = [.. closure];
        }

        return new DependencyResolver(_modules, _facts) { Closures = closures, SymbolLines = symbolLines.GetAwaiter().GetResult() };
    }

    /// <summary>Each symbol a module exports, with its owner, in kmod's hash order.</summary>
    private List<(string Symbol, int Owner)> SymbolLinesInHashOrder()
    {
        var names = new List<string>(_symbols.Count);
        var owners = new List<int>(_symbols.Count);
        foreach (var (name, slot) in _symbols)
            if (_owners[slot] >= 0)
            {
                names.Add(name);
                owners.Add(_owners[slot]);
            }
        var keys = names.ToArray();
        var lines = new List<(string, int)>(keys.Length);
        foreach (var i in KmodHash.IterationOrder(keys, SymbolBuckets))
            lines.Add((keys[i], owners[i]));
        return lines;
    }

    /// <summary>
    /// kmod's depmod_calculate_dependencies: modules nobody uses are the roots, taken from a stack
    /// (last pushed first); each taken module gets the next sort index and releases its
    /// dependencies in discovery order. Modules left over are on or behind a cycle.
    /// </summary>
    private int[] TopologicalSort(List<int>[] deps, int[] users)
    {
        var n = deps.Length;
        var remaining = (int[])users.Clone();
        var sortIndex = new int[n];
        Array.Fill(sortIndex, int.MaxValue);
        var roots = new ArrayBuilder<int>(n);
        for (var m = 0; m < n; m++)
            if (remaining[m] == 0) roots.Add(m);
        var sorted = 0;
        while (roots.Count > 0)
        {
            var src = roots.Pop();
            sortIndex[src] = sorted++;
            foreach (var dst in deps[src])
                if (--remaining[dst] == 0) roots.Add(dst);
        }
        if (sorted < n)
            ReportCycles(deps, remaining);
        return sortIndex;
    }

    /// <summary>
    /// kmod's depmod_report_cycles: from each module still used by someone (in module order), a
    /// depth-first walk that reports every path leading back to it. kmod's walk never ends when it
    /// meets a cycle that does not pass through its start; here a module already on the current
    /// path is not entered again, which changes nothing for every input kmod finishes on. Which
    /// module a cycle is reported from follows kmod's list of roots exactly (see <see cref="KmodRootList"/>).
    /// </summary>
    private void ReportCycles(List<int>[] deps, int[] remaining)
    {
        var roots = new KmodRootList(Enumerable.Range(0, deps.Length).Where(m => remaining[m] > 0));
        var visited = new bool[deps.Length];
        var cycles = new List<IReadOnlyList<string>>();
        var onCycles = new HashSet<string>(StringComparer.Ordinal);
        while (roots.Count > 0)
        {
            var root = roots.RemoveFirst();
            var stack = new Stack<Vertex>();
            stack.Push(new Vertex(root, null));
            while (stack.Count > 0)
            {
                var vertex = stack.Pop();
                var m = vertex.Module;
                // As in kmod, a start already visited from an earlier start reports a "cycle" of itself alone.
                if (visited[m] && m == root)
                {
                    var path = new List<string>();
                    for (var v = vertex.Parent; v is not null; v = v.Parent)
                    {
                        path.Add(_modules[v.Module].Name);
                        onCycles.Add(_modules[v.Module].Name);
                        roots.Remove(v.Module);
                    }
                    path.Reverse();
                    path.Add(_modules[root].Name);
                    cycles.Add(path);
                    continue;
                }
                visited[m] = true;
                if (deps[m].Count == 0)
                {
                    roots.Remove(m);
                    continue;
                }
                foreach (var d in deps[m])
                {
                    if (d != root && vertex.Contains(d))
                        continue;
                    stack.Push(new Vertex(d, vertex));
                }
            }
        }
        throw new DependencyCycleException(cycles, onCycles.Count);
    }

    /// <summary>
    /// kmod's roots list is circular, and removing a module from it (kmod_list_remove_data) makes
    /// the module after the removed one the new head: the walk goes on from there, not from the
    /// old head. That decides which module of a cycle it is reported from.
    /// </summary>
    private sealed class KmodRootList(IEnumerable<int> modules)
    {
        private readonly List<int> _items = [.. modules]; // _items[0] is the head

        public int Count => _items.Count;

        /// <summary>kmod_list_remove on the head: the next one becomes the head.</summary>
        public int RemoveFirst()
        {
            var head = _items[0];
            _items.RemoveAt(0);
            return head;
        }

        /// <summary>kmod_list_remove_data: nothing when absent; else the module after it becomes the head.</summary>
        public void Remove(int module)
        {
            var at = _items.IndexOf(module);
            if (at < 0)
                return;
            _items.RemoveAt(at);
            if (at == 0 || _items.Count == 0)
                return;
            var next = at % _items.Count;
            var rotated = _items.GetRange(next, _items.Count - next);
            rotated.AddRange(_items.GetRange(0, next));
            _items.Clear();
            _items.AddRange(rotated);
        }
    }

    private sealed record Vertex(int Module, Vertex? Parent)
    {
        public bool Contains(int module)
        {
            for (var v = this; v is not null; v = v.Parent)
                if (v.Module == module) return true;
            return false;
        }
    }
}
