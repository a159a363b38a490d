using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Graph;
using LkmPowerShell.Graphs;

namespace LkmPowerShell.Commands;

/// <summary>
/// Draws modules and their relations: the objects of Get-KernelModuleDependency, Get-KernelModule
/// (loaded modules' holders, module files' depends and softdeps), or any mix, as one Mermaid
/// flowchart, Graphviz DOT text, or SVG drawn by Graphviz's dot. Named after ConvertTo-Json and
/// ConvertTo-Html: objects in, one text out.
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "KernelModuleGraph")]
[OutputType(typeof(string))]
public sealed class ConvertToKernelModuleGraphCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    [Parameter]
    [ValidateSet("Mermaid", "Dot", "Svg")]
    public string Format { get; set; } = "Mermaid";

    /// <summary>Module names to highlight besides the targets the objects name themselves.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Target { get; set; }

    private readonly ModuleGraph _graph = new();
    private string? _dot;

    protected override void BeginProcessing()
    {
        if (Format != "Svg")
            return;
        // Found before any input is read, so a missing Graphviz stops the call at once.
        _dot = InvokeCommand.GetCommand("dot", CommandTypes.Application) is ApplicationInfo dot ? dot.Path : null;
        if (_dot is null)
            ThrowTerminatingError(ModuleErrors.New(new CommandNotFoundException("-Format Svg needs Graphviz's dot program, which is not on PATH."),
                "GraphvizNotFound", ErrorCategory.ObjectNotFound, "dot", "Graph.GraphvizNotFound"));
    }

    protected override void ProcessRecord()
    {
        if (InputObject is null)
            return;
        if (!GraphInput.Add(_graph, InputObject))
            WriteError(ModuleErrors.New(new ArgumentException($"The input ({InputObject.BaseObject?.GetType().Name}) has no Name property, so it names no module."),
                "NotAModule", ErrorCategory.InvalidArgument, InputObject, "Graph.NotAModule"));
    }

    protected override void EndProcessing()
    {
        foreach (var name in Target ?? [])
            _graph.AddNode(ModuleName.Normalize(name), isTarget: true);
        if (Format == "Mermaid")
        {
            WriteObject(_graph.ToMermaid());
            return;
        }
        var dotText = _graph.ToDot();
        if (Format == "Dot")
        {
            WriteObject(dotText);
            return;
        }
        try
        {
            WriteVerbose($"{_dot} -Tsvg ({_graph.Nodes.Count} modules, {_graph.Edges.Count} arrows)");
            WriteObject(GraphvizRenderer.ToSvg(dotText, _dot!, TimeSpan.FromSeconds(60)));
        }
        catch (Exception e) when (e is GraphvizException or System.ComponentModel.Win32Exception or IOException)
        {
            ThrowTerminatingError(ModuleErrors.New(e, "GraphvizFailed", ErrorCategory.InvalidResult, _dot, "Graph.GraphvizFailed"));
        }
    }
}
