namespace LkmPowerShell.Engine.Audit;

/// <summary>One allocation in the kernel's module area, from /proc/vmallocinfo.</summary>
/// <param name="Start">First address.</param>
/// <param name="End">One past the last address (the line's range, guard page included).</param>
/// <param name="Line">The line as the kernel printed it, for the evidence.</param>
internal sealed record ModuleMemoryArea(ulong Start, ulong End, string Line)
{
    public bool Contains(ulong address) => address >= Start && address < End;
}
