namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// How far an audit has come, for a caller that shows progress: the stage, and within the
/// per-module checks (which read and verify each module's file) how many of how many are done.
/// </summary>
/// <param name="Stage">What is being done, in words ("reading the kernel's views", "checking modules").</param>
/// <param name="Completed">Items done in this stage.</param>
/// <param name="Total">Items in this stage; 0 when the stage is not counted.</param>
/// <param name="Current">The item being worked on (a module's name), when there is one.</param>
public sealed record AuditProgress(string Stage, int Completed, int Total, string? Current = null);
