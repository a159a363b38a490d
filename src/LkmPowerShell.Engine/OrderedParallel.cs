namespace LkmPowerShell.Engine;

/// <summary>
/// Maps a list on several threads and yields the results in the list's order, each as soon as it
/// and all before it are done: so the first result comes after one item's work, not the whole
/// list's, and a consumer that stops early (Select-Object -First) stops the workers. At most
/// <c>window</c> results wait ahead of the consumer, so memory stays bounded however long the list.
/// </summary>
/// <remarks>
/// PLINQ's AsOrdered does the same but buffers more and costs several milliseconds to start; reading
/// module files wants the first object within a few. The map should not throw: a failure is a
/// result (the callers return the exception beside the path). If it does throw, that exception is
/// thrown to the consumer at its item's place, after every result before it, and no item after it is started.
/// </remarks>
public static class OrderedParallel
{
    public static IEnumerable<TOut> Map<TIn, TOut>(IReadOnlyList<TIn> items, Func<TIn, TOut> map, int degree, int window = 256)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        if (items.Count == 0)
            yield break;
        degree = Math.Clamp(degree, 1, items.Count);
        if (degree == 1)
        {
            foreach (var item in items)
                yield return map(item);
            yield break;
        }
        var state = new State<TIn, TOut>(items, map, window);
        var workers = new Thread[degree];
        for (var w = 0; w < degree; w++)
        {
            workers[w] = new Thread(state.Work) { IsBackground = true, Name = "LkmPowerShell reader" };
            workers[w].Start();
        }
        try
        {
            for (var i = 0; i < items.Count; i++)
                yield return state.Take(i);
        }
        finally
        {
            state.Stop();
        }
    }

    private sealed class State<TIn, TOut>(IReadOnlyList<TIn> items, Func<TIn, TOut> map, int window)
    {
        private readonly object _lock = new();
        private readonly TOut[] _results = new TOut[items.Count];
        private readonly bool[] _done = new bool[items.Count];
        // An item's exception, kept at its place: items are handed out in order, so every item
        // before a failed one was handed out and will be done, and the consumer meets them first.
        private readonly Exception?[] _errors = new Exception?[items.Count];
        private int _next = -1;      // the last index handed to a worker
        private int _consumed;       // the results the consumer has taken
        private bool _stopped;

        public void Work()
        {
            while (true)
            {
                int i;
                lock (_lock)
                {
                    while (!_stopped && _next + 1 < items.Count && _next + 1 >= _consumed + window)
                        Monitor.Wait(_lock);
                    if (_stopped || _next + 1 >= items.Count)
                        return;
                    i = ++_next;
                }
                TOut result = default!;
                Exception? error = null;
                try
                {
                    result = map(items[i]);
                }
                catch (Exception e)
                {
                    error = e;
                }
                lock (_lock)
                {
                    _results[i] = result;
                    _errors[i] = error;
                    _done[i] = true;
                    if (error is not null)
                        _stopped = true; // nothing after a failure is started
                    if (i == _consumed || error is not null)
                        Monitor.PulseAll(_lock);
                }
            }
        }

        public TOut Take(int i)
        {
            lock (_lock)
            {
                while (!_done[i])
                    Monitor.Wait(_lock);
                if (_errors[i] is { } error)
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
                var result = _results[i];
                _results[i] = default!; // the consumer owns it now: let it go when the consumer does
                _consumed = i + 1;
                Monitor.PulseAll(_lock);
                return result;
            }
        }

        public void Stop()
        {
            lock (_lock)
            {
                _stopped = true;
                Monitor.PulseAll(_lock);
            }
        }
    }
}
