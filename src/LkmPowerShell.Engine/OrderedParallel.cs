namespace LkmPowerShell.Engine;

/// <summary>
/// Maps a list on several threads and yields the results in the list's order, each as soon as it
/// and all before it are done: so the first result comes after one item's work, not the whole
/// list's, and a consumer that stops early (Select-Object -First) stops the workers. At most
/// <c>window</c> results wait ahead of the consumer, so memory stays bounded however long the list.
/// </summary>
/// <remarks>
/// PLINQ's AsOrdered does the same but buffers more and costs several milliseconds to start; reading
/// module files wants the first object within a few. The map must not throw: a failure is a
/// result (the callers return the exception beside the path).
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
        private int _next = -1;      // the last index handed to a worker
        private int _consumed;       // the results the consumer has taken
        private bool _stopped;
        private Exception? _failure;

        public void Work()
        {
            try
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
                    var result = map(items[i]);
                    lock (_lock)
                    {
                        _results[i] = result;
                        _done[i] = true;
                        if (i == _consumed)
                            Monitor.PulseAll(_lock);
                    }
                }
            }
            catch (Exception e)
            {
                lock (_lock)
                {
                    _failure ??= e;
                    _stopped = true;
                    Monitor.PulseAll(_lock);
                }
            }
        }

        /// <summary>
        /// Result <paramref name="i"/>. While it is not ready the consumer maps the next unclaimed
        /// item itself rather than sleep: a consumer faster than the workers (Out-Null, a variable)
        /// otherwise sleeps and is woken once an item, which cost more CPU than a small item's
        /// work, and on a busy machine a thread that sleeps gives its share of the cores away.
        /// </summary>
        public TOut Take(int i)
        {
            while (true)
            {
                int claimed;
                lock (_lock)
                {
                    if (_done[i])
                    {
                        var result = _results[i];
                        _results[i] = default!; // the consumer owns it now: let it go when the consumer does
                        _consumed = i + 1;
                        Monitor.PulseAll(_lock);
                        return result;
                    }
                    if (_failure is not null)
                        throw new AggregateException("a worker failed", _failure);
                    if (_stopped || _next + 1 >= items.Count || _next + 1 >= _consumed + window)
                    {
                        Monitor.Wait(_lock); // every item is being mapped: the one wanted is among them
                        continue;
                    }
                    claimed = ++_next;
                }
                var mapped = map(items[claimed]);
                lock (_lock)
                {
                    _results[claimed] = mapped;
                    _done[claimed] = true;
                }
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
