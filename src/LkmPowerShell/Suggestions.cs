using System.Management.Automation;
using LkmPowerShell.Engine;

namespace LkmPowerShell;

/// <summary>
/// Adds "Did you mean ...?" to a not-found error: the nearest known names, in the shown message and
/// first in RecommendedAction. Computed only here, on the error path (NameSuggestions bounds the cost).
/// </summary>
internal static class Suggestions
{
    /// <summary>
    /// <paramref name="record"/> with the names nearest to <paramref name="wanted"/> among
    /// <paramref name="known"/> added, or unchanged when none is near. Module names compare in the
    /// kernel's form ("-" and "_" alike) when <paramref name="moduleNames"/>.
    /// </summary>
    public static ErrorRecord Add(ErrorRecord record, string wanted, IEnumerable<string> known, bool moduleNames)
    {
        var nearest = moduleNames
            ? NameSuggestions.Nearest(ModuleName.Normalize(wanted), known.Select(ModuleName.Normalize))
            : NameSuggestions.Nearest(wanted, known);
        if (nearest.Count == 0)
            return record;
        var question = ModuleErrors.Remedy("DidYouMean", Join(nearest));
        // The shown message is the facts, then the remedy (ModuleErrors' shape): the question goes first in the remedy.
        var remedy = record.ErrorDetails?.RecommendedAction is { Length: > 0 } r ? $"{question} {r}" : question;
        record.ErrorDetails = new ErrorDetails($"{record.Exception.Message} {remedy}") { RecommendedAction = remedy };
        return record;
    }

    private static string Join(IReadOnlyList<string> names) => names.Count switch
    {
        1 => names[0],
        2 => $"{names[0]} or {names[1]}",
        _ => $"{string.Join(", ", names.Take(names.Count - 1))} or {names[^1]}",
    };
}
