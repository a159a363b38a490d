namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// A kernel log line in which the module loader says a module taints the kernel
/// ("x: loading out-of-tree module taints kernel.").
/// </summary>
/// <param name="Module">The module the line names.</param>
/// <param name="Letter">The taint letter the line stands for (O, E, P, C, N, K, F).</param>
/// <param name="Line">The line as logged, without the record header or timestamp.</param>
internal sealed record KernelLogTaintEvent(string Module, char Letter, string Line);
