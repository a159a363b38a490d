namespace LkmPowerShell.Engine.ModuleTree;

/// <summary>One value stored under a key of a .bin index, with its priority (depmod: the module's index).</summary>
internal readonly record struct IndexValue(string Value, uint Priority)
{
    public override string ToString() => $"{Value} ({Priority})";
}

/// <summary>A key of a .bin index with one of its values.</summary>
internal readonly record struct IndexEntry(string Key, string Value, uint Priority)
{
    public override string ToString() => $"{Key} {Value} ({Priority})";
}
