using System.Diagnostics;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>One step of a run and the wall time it took (steps marked "(parallel)" overlap others).</summary>
public sealed record DepmodStep(string Name, TimeSpan Elapsed)
{
    public override string ToString() => $"{Name}: {Elapsed.TotalMilliseconds:0.0} ms";
}

/// <summary>
/// Where a run's time went, step by step: kept so a slow run can be explained from its own
/// record (the cmdlet shows it as verbose output) instead of by guessing.
/// </summary>
internal sealed class DepmodTimeline
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    // A list of a class under a lock, not a concurrent queue of structs: no framework generic over
    // an engine struct for a fresh process to JIT-compile (see ValueList).
    private readonly List<DepmodStep> _steps = [];
    private TimeSpan _last;

    /// <summary>Ends the current step: the time since the previous mark.</summary>
    public void Mark(string step)
    {
        var now = _clock.Elapsed;
        lock (_steps)
        {
            _steps.Add(new DepmodStep(step, now - _last));
            _last = now;
        }
    }

    /// <summary>A step timed on its own (one of several running side by side).</summary>
    public void Add(string step, TimeSpan elapsed)
    {
        lock (_steps)
            _steps.Add(new DepmodStep(step, elapsed));
    }

    public IReadOnlyList<DepmodStep> Steps
    {
        get
        {
            lock (_steps)
                return _steps.ToArray();
        }
    }
}
