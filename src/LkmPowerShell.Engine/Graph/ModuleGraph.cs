using LkmPowerShell.Engine.Dependencies;

namespace LkmPowerShell.Engine.Graph;

/// <summary>A module in a picture; <see cref="Note"/> says what is special about it ("built in", "install command").</summary>
public sealed record GraphNode(string Name, bool IsTarget, string? Note);

/// <summary>An arrow: <see cref="From"/> needs <see cref="To"/>, labelled by kind ("depends", "softdep pre", "holder").</summary>
public sealed record GraphEdge(string From, string To, DependencyKind Kind, string Label);

/// <summary>
/// Modules and the arrows between them, gathered from any mix of sources (a plan, -Reverse, the
/// holders graph, modinfo's depends) and written as Mermaid or Graphviz DOT text. Nodes and
/// arrows are kept once each, in the order first seen, so the text is stable for golden files.
/// </summary>
public sealed class ModuleGraph
{
    private readonly List<GraphNode> _nodes = [];
    private readonly Dictionary<string, int> _nodeIndex = new(StringComparer.Ordinal);
    private readonly List<GraphEdge> _edges = [];
    private readonly HashSet<(string, string, string)> _edgeKeys = [];

    public IReadOnlyList<GraphNode> Nodes => _nodes;
    public IReadOnlyList<GraphEdge> Edges => _edges;

    /// <summary>Adds a module, or marks one already there as a target or with a note (the first note wins).</summary>
    public void AddNode(string name, bool isTarget = false, string? note = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_nodeIndex.TryGetValue(name, out var i))
        {
            var old = _nodes[i];
            _nodes[i] = old with { IsTarget = old.IsTarget || isTarget, Note = old.Note ?? note };
            return;
        }
        _nodeIndex[name] = _nodes.Count;
        _nodes.Add(new GraphNode(name, isTarget, note));
    }

    /// <summary>Adds an arrow (and its ends); the same arrow with the same label is kept once.</summary>
    public void AddEdge(string from, string to, DependencyKind kind, string? label = null)
    {
        AddNode(from);
        AddNode(to);
        label ??= KindLabel(kind);
        if (_edgeKeys.Add((from, to, label)))
            _edges.Add(new GraphEdge(from, to, kind, label));
    }

    /// <summary>The arrow's words for a kind of relation.</summary>
    public static string KindLabel(DependencyKind kind) => kind switch
    {
        DependencyKind.Depends => "depends",
        DependencyKind.Softdep => "softdep",
        DependencyKind.Weakdep => "weakdep",
        DependencyKind.Holder => "holder",
        _ => "",
    };

    /// <summary>
    /// A Mermaid flowchart, top down: modules as boxes (ids made safe, names as labels), depends as
    /// solid arrows, softdep and weakdep dotted, holder thick; targets highlighted by a class.
    /// </summary>
    public string ToMermaid()
    {
        var w = new System.Text.StringBuilder();
        w.Append("flowchart TD\n");
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < _nodes.Count; i++)
        {
            var n = _nodes[i];
            var id = ids[n.Name] = MermaidId(n.Name, i);
            w.Append("    ").Append(id).Append("[\"").Append(MermaidText(n.Name));
            if (n.Note is not null) w.Append("<br/><small>").Append(MermaidText(n.Note)).Append("</small>");
            w.Append("\"]\n");
        }
        foreach (var e in _edges)
        {
            var arrow = e.Kind switch
            {
                DependencyKind.Softdep or DependencyKind.Weakdep => "-.->",
                DependencyKind.Holder => "==>",
                _ => "-->",
            };
            w.Append("    ").Append(ids[e.From]).Append(' ').Append(arrow).Append("|\"").Append(MermaidText(e.Label)).Append("\"| ").Append(ids[e.To]).Append('\n');
        }
        var targets = _nodes.Where(n => n.IsTarget).Select(n => ids[n.Name]).ToList();
        if (targets.Count > 0)
        {
            w.Append("    classDef target fill:#ffd54f,stroke:#e65100,stroke-width:3px\n");
            w.Append("    class ").Append(string.Join(',', targets)).Append(" target\n");
        }
        return w.ToString();
    }

    /// <summary>Graphviz DOT text: the same picture for dot, with targets filled and bold.</summary>
    public string ToDot()
    {
        var w = new System.Text.StringBuilder();
        w.Append("digraph modules {\n");
        w.Append("    node [shape=box, style=rounded, fontname=\"sans-serif\"];\n");
        w.Append("    edge [fontname=\"sans-serif\", fontsize=10];\n");
        foreach (var n in _nodes)
        {
            var label = n.Note is null ? n.Name : n.Name + "\n" + n.Note;
            w.Append("    ").Append(DotString(n.Name)).Append(" [label=").Append(DotString(label));
            if (n.IsTarget) w.Append(", style=\"rounded,filled,bold\", fillcolor=\"#ffd54f\", color=\"#e65100\"");
            w.Append("];\n");
        }
        foreach (var e in _edges)
        {
            var style = e.Kind switch
            {
                DependencyKind.Softdep => ", style=dashed",
                DependencyKind.Weakdep => ", style=dotted",
                DependencyKind.Holder => ", style=bold, color=\"#1565c0\"",
                _ => "",
            };
            w.Append("    ").Append(DotString(e.From)).Append(" -> ").Append(DotString(e.To)).Append(" [label=").Append(DotString(e.Label)).Append(style).Append("];\n");
        }
        w.Append("}\n");
        return w.ToString();
    }

    /// <summary>A Mermaid id from a module name: letters, digits and '_' only, never a keyword (such as "end"), unique by its position.</summary>
    private static string MermaidId(string name, int index)
    {
        var safe = new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_')]);
        return safe == name ? "m_" + safe : $"m{index}_{safe}";
    }

    /// <summary>Text inside a quoted Mermaid label: quotes and markup characters as entity codes.</summary>
    private static string MermaidText(string text) => text
        .Replace("&", "#amp;", StringComparison.Ordinal).Replace("\"", "#quot;", StringComparison.Ordinal)
        .Replace("<", "#lt;", StringComparison.Ordinal).Replace(">", "#gt;", StringComparison.Ordinal)
        .Replace("|", "#124;", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    /// <summary>A DOT quoted string: backslashes and quotes escaped, line breaks as \n.</summary>
    private static string DotString(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\r", "", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
