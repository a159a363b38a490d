using LkmPowerShell.Engine.Dependencies;
using LkmPowerShell.Engine.Graph;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Dependencies;

/// <summary>The Mermaid and DOT text of a small graph, against golden text, and names that would break either syntax.</summary>
public sealed class ModuleGraphTests
{
    private static ModuleGraph MsdosGraph()
    {
        var g = new ModuleGraph();
        g.AddNode("msdos", isTarget: true);
        g.AddEdge("msdos", "fat", DependencyKind.Depends);
        g.AddEdge("msdos", "nls_cp437", DependencyKind.Softdep, "softdep pre");
        g.AddEdge("vfat", "fat", DependencyKind.Holder);
        g.AddEdge("msdos", "fat", DependencyKind.Depends); // once only
        g.AddNode("crc32c_generic", note: "built in");
        return g;
    }

    [Fact]
    public void MermaidMatchesTheGoldenText() => Assert.Equal("""
        flowchart TD
            m_msdos["msdos"]
            m_fat["fat"]
            m_nls_cp437["nls_cp437"]
            m_vfat["vfat"]
            m_crc32c_generic["crc32c_generic<br/><small>built in</small>"]
            m_msdos -->|"depends"| m_fat
            m_msdos -.->|"softdep pre"| m_nls_cp437
            m_vfat ==>|"holder"| m_fat
            classDef target fill:#ffd54f,stroke:#e65100,stroke-width:3px
            class m_msdos target

        """.Replace("\r\n", "\n"), MsdosGraph().ToMermaid());

    [Fact]
    public void DotMatchesTheGoldenText() => Assert.Equal("""
        digraph modules {
            node [shape=box, style=rounded, fontname="sans-serif"];
            edge [fontname="sans-serif", fontsize=10];
            "msdos" [label="msdos", style="rounded,filled,bold", fillcolor="#ffd54f", color="#e65100"];
            "fat" [label="fat"];
            "nls_cp437" [label="nls_cp437"];
            "vfat" [label="vfat"];
            "crc32c_generic" [label="crc32c_generic\nbuilt in"];
            "msdos" -> "fat" [label="depends"];
            "msdos" -> "nls_cp437" [label="softdep pre", style=dashed];
            "vfat" -> "fat" [label="holder", style=bold, color="#1565c0"];
        }

        """.Replace("\r\n", "\n"), MsdosGraph().ToDot());

    [Fact]
    public void HostileNamesStayInsideTheirQuotes()
    {
        var g = new ModuleGraph();
        g.AddEdge("end", "a\"]; x-->y[\"b", DependencyKind.Depends);
        g.AddEdge("q\"\\\n", "end", DependencyKind.Softdep, "x|y");
        var mermaid = g.ToMermaid();
        Assert.Contains("m_end[\"end\"]", mermaid, StringComparison.Ordinal); // "end" alone would close a Mermaid block; the id is prefixed
        Assert.Contains("m1_a____x___y__b[\"a#quot;]; x--#gt;y[#quot;b\"]", mermaid, StringComparison.Ordinal);
        Assert.Contains("|\"x#124;y\"|", mermaid, StringComparison.Ordinal);
        var dot = g.ToDot();
        Assert.Contains("\"a\\\"]; x-->y[\\\"b\"", dot, StringComparison.Ordinal);
        Assert.Contains("\"q\\\"\\\\\\n\" -> \"end\"", dot, StringComparison.Ordinal);
    }

    [Fact]
    public void ANodeMarkedTargetLaterIsHighlightedAndKeepsItsPlace()
    {
        var g = new ModuleGraph();
        g.AddEdge("a", "b", DependencyKind.Depends);
        g.AddNode("b", isTarget: true);
        Assert.Equal(["a", "b"], g.Nodes.Select(n => n.Name));
        Assert.True(g.Nodes[1].IsTarget);
        Assert.EndsWith("class m_b target\n", g.ToMermaid(), StringComparison.Ordinal);
    }
}
