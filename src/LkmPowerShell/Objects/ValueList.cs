using System.Collections.ObjectModel;

namespace LkmPowerShell;

/// <summary>
/// A multi-valued property (aliases, dependencies, holders ...): a read-only list of strings that
/// enumerates, indexes and compares (-contains) like an array, and whose ToString joins the values,
/// so Export-Csv and string expansion write "a; b" instead of "System.String[]".
/// After remoting it comes back as a plain list, as an array would.
/// </summary>
public sealed class ValueList : ReadOnlyCollection<string>
{
    /// <summary>What ToString puts between values: not ',' because author lists contain commas.</summary>
    public const string Separator = "; ";

    public ValueList(IEnumerable<string> values) : base(values.ToArray())
    {
    }

    public override string ToString() => string.Join(Separator, this);
}

/// <summary>A list of parameters (or other objects) whose ToString lists the items' ToString, for Export-Csv.</summary>
public sealed class ObjectList<T> : ReadOnlyCollection<T>
{
    public ObjectList(IEnumerable<T> values) : base(values.ToArray())
    {
    }

    public override string ToString() => string.Join(ValueList.Separator, this.Select(v => v?.ToString()));
}
