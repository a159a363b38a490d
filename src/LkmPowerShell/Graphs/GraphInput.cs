using System.Collections;
using System.Management.Automation;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Dependencies;
using LkmPowerShell.Engine.Graph;

namespace LkmPowerShell.Graphs;

/// <summary>
/// Reads what a piped object says about modules into a <see cref="ModuleGraph"/>, by property name
/// so that live and deserialised objects read alike: a dependency row (Get-KernelModuleDependency:
/// Name, Role, Kind, NeededBy, Needs), a loaded module (Get-KernelModule: Name, UsedBy), a module
/// file (Get-KernelModule -ListAvailable or -Path: Name, Depends, SoftDependencies), or anything
/// with a Name (a node alone).
/// </summary>
internal static class GraphInput
{
    /// <returns>False when the object names no module.</returns>
    public static bool Add(ModuleGraph graph, PSObject input)
    {
        if (Text(input, "Name") is not { Length: > 0 } name)
            return false;
        if (Text(input, "Role") is { } role && Text(input, "Kind") is { } kindText && Enum.TryParse<DependencyKind>(kindText, out var kind))
        {
            graph.AddNode(name, role == nameof(DependencyRole.Target), Note(Text(input, "Action")));
            var label = role switch
            {
                nameof(DependencyRole.SoftdepPre) => "softdep pre",
                nameof(DependencyRole.SoftdepPost) => "softdep post",
                _ => null,
            };
            foreach (var from in Texts(input, "NeededBy"))
                graph.AddEdge(from, name, kind, label);
            foreach (var to in Texts(input, "Needs"))
                graph.AddEdge(name, to, kind, label);
            return true;
        }
        graph.AddNode(name, note: Text(input, "State") == "Builtin" || Text(input, "IsBuiltin") == "True" ? "built in" : null);
        foreach (var holder in Texts(input, "UsedBy"))
            graph.AddEdge(holder, name, DependencyKind.Holder);
        foreach (var dependency in Texts(input, "Depends"))
            graph.AddEdge(name, ModuleName.Normalize(dependency), DependencyKind.Depends);
        foreach (var line in Texts(input, "SoftDependencies"))
            AddSoftdepLine(graph, name, line);
        return true;
    }

    /// <summary>modinfo's "pre: a b post: c": an arrow per name, labelled like the plan's.</summary>
    private static void AddSoftdepLine(ModuleGraph graph, string module, string line)
    {
        string? part = null;
        foreach (var word in line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (word is "pre:" or "post:")
                part = word.TrimEnd(':');
            else if (part is not null)
                graph.AddEdge(module, word, DependencyKind.Softdep, "softdep " + part);
        }
    }

    /// <summary>What a plan's action says about a node, when it is worth saying in a picture.</summary>
    private static string? Note(string? action) => action switch
    {
        nameof(DependencyAction.Builtin) => "built in",
        nameof(DependencyAction.InstallCommand) => "install command",
        nameof(DependencyAction.Unavailable) => "not available",
        nameof(DependencyAction.NotLoaded) => "never loaded",
        nameof(DependencyAction.StaysLoaded) => "stays loaded",
        nameof(DependencyAction.Skipped) => "skipped",
        nameof(DependencyAction.AlreadyLoaded) => "loaded",
        _ => null,
    };

    private static string? Text(PSObject o, string property) => o.Properties[property]?.Value switch
    {
        null => null,
        PSObject p => p.BaseObject?.ToString(),
        var v => v.ToString(),
    };

    /// <summary>A multi-valued property (an array, a ValueList, or the ArrayList remoting makes of one); a single string as one value.</summary>
    private static IEnumerable<string> Texts(PSObject o, string property)
    {
        var value = o.Properties[property]?.Value;
        if (value is PSObject p) value = p.BaseObject;
        if (value is string s)
        {
            if (s.Length > 0) yield return s;
            yield break;
        }
        if (value is not IEnumerable items) yield break;
        foreach (var item in items)
            if ((item is PSObject pi ? pi.BaseObject : item)?.ToString() is { Length: > 0 } t)
                yield return t;
    }
}
