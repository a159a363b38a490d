using System.Management.Automation;
using LkmPowerShell.Engine;

namespace LkmPowerShell;

/// <summary>
/// Adds "Did you mean ...?" to a not-found error: the nearest known names, first in RecommendedAction. Computed only here, on the error path (NameSuggestions bounds the cost).
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
        // The shown message is the facts (ModuleErrors' shape); the question goes first in the remedy, which the console prints after it.
        var remedy = record.ErrorDetails?.RecommendedAction is { Length: > 0 } r ? $"{question} {r}" : question;
        record.ErrorDetails = new ErrorDetails(record.ErrorDetails?.Message ?? record.Exception.Message) { RecommendedAction = remedy };
        return record;
    }

    /// <summary>
    /// <paramref name="record"/> with the kernel versions asked first that <paramref name="wanted"/>
    /// is the start of (6.12.118 of 6.12.118+deb12-amd64) or near to; unchanged when there is none.
    /// </summary>
    public static ErrorRecord AddVersions(ErrorRecord record, string wanted, IReadOnlyList<string> installed)
    {
        var nearest = installed.Where(v => v.StartsWith(wanted, StringComparison.Ordinal) && v != wanted)
            .Concat(NameSuggestions.Nearest(wanted, installed)).Distinct(StringComparer.Ordinal).Take(3).ToList();
        if (nearest.Count == 0)
            return record;
        var question = ModuleErrors.Remedy("DidYouMean", Join(nearest));
        var remedy = record.ErrorDetails?.RecommendedAction is { Length: > 0 } r ? $"{question} {r}" : question;
        record.ErrorDetails = new ErrorDetails(record.ErrorDetails?.Message ?? record.Exception.Message) { RecommendedAction = remedy };
        return record;
    }

    private static string Join(IReadOnlyList<string> names) => names.Count switch
    {
        1 => names[0],
        2 => $"{names[0]} or {names[1]}",
        _ => $"{string.Join(", ", names.Take(names.Count - 1))} or {names[^1]}",
    };
}
