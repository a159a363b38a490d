using System.Collections.Concurrent;
using System.Management.Automation;

namespace LkmPowerShell;

/// <summary>
/// Runs long engine work off the pipeline thread while the cmdlet stays responsive: the engine's
/// callbacks (progress, warnings) arrive on worker threads, but WriteProgress and WriteWarning may
/// only be called on the pipeline thread, so they are queued here and played back as they come.
/// </summary>
internal sealed class EngineWork
{
    private readonly BlockingCollection<Action> _queue = new();

    /// <summary>Queues something to do on the pipeline thread (safe from any thread).</summary>
    public void Post(Action action)
    {
        try
        {
            _queue.Add(action);
        }
        catch (InvalidOperationException)
        {
            // The work has finished and the queue is closed: a late callback has nowhere to go.
        }
    }

    public T Run<T>(Func<T> work)
    {
        var task = Task.Run(() =>
        {
            try
            {
                return work();
            }
            finally
            {
                _queue.CompleteAdding();
            }
        });
        foreach (var action in _queue.GetConsumingEnumerable())
            action();
        return task.GetAwaiter().GetResult();
    }
}
