using LkmPowerShell.Engine.Tests.Hostile;
using Xunit;

namespace LkmPowerShell.Engine.Tests;

public class OrderedParallelTests
{
    [Fact]
    public void ResultsComeInInputOrderWhateverFinishesFirst()
    {
        var items = Enumerable.Range(0, 500).ToArray();
        // Early items are the slow ones, so later ones finish first.
        var results = OrderedParallel.Map(items, i => { if (i % 50 == 0) Thread.Sleep(5); return i * 2; }, degree: 4, window: 16).ToList();
        Assert.Equal(items.Select(i => i * 2), results);
    }

    [Fact]
    public void NoMoreThanTheWindowRunsAheadOfTheConsumer()
    {
        var started = 0;
        var items = Enumerable.Range(0, 1000).ToArray();
        using var e = OrderedParallel.Map(items, i => { Interlocked.Increment(ref started); return i; }, degree: 2, window: 8).GetEnumerator();
        Assert.True(e.MoveNext());
        Thread.Sleep(100);
        // The consumer took one: the workers may have taken at most that one plus the window.
        Assert.InRange(Volatile.Read(ref started), 1, 1 + 8);
    }

    [Fact]
    public void StoppingEarlyStopsTheWorkers()
    {
        var started = 0;
        var items = Enumerable.Range(0, 100_000).ToArray();
        var first = OrderedParallel.Map(items, i => { Interlocked.Increment(ref started); return i; }, degree: 2, window: 32).Take(3).ToList();
        Assert.Equal([0, 1, 2], first);
        Thread.Sleep(100);
        // At most the three taken, the window ahead of them and one in each worker's hands.
        var after = Volatile.Read(ref started);
        Assert.True(after <= 3 + 32 + 2, $"{after} items were mapped though the consumer stopped at 3");
    }

    /// <summary>
    /// A map that throws (a bug: callers return failures as results) costs nothing before it: every
    /// earlier result comes, in order, then the exception itself, at its place; the workers stop.
    /// Found attacking the listing: a failure in one item made the consumer throw at whatever earlier
    /// item was still running, so finished results before the failure were lost.
    /// </summary>
    [Fact]
    public void AFailureComesAtItsPlaceAfterEveryEarlierResult()
    {
        var started = 0;
        var items = Enumerable.Range(0, 10_000).ToArray();
        var seen = new List<int>();
        var e = Within.Throws<InvalidOperationException>(() =>
        {
            foreach (var r in OrderedParallel.Map(items, i =>
            {
                Interlocked.Increment(ref started);
                if (i == 10) Thread.Sleep(300); // an earlier item still running when the later one fails
                if (i == 11) throw new InvalidOperationException("item 11 failed");
                return i;
            }, degree: 2, window: 16))
                seen.Add(r);
            return null;
        });
        Assert.Equal("item 11 failed", e.Message);
        Assert.Equal(Enumerable.Range(0, 11), seen);
        Thread.Sleep(100);
        Assert.True(Volatile.Read(ref started) <= 11 + 1 + 16 + 2, $"{started} items were mapped after the failure");
    }

    /// <summary>Two failures: the first in the list's order is the one thrown, whichever happened first.</summary>
    [Fact]
    public void TheFirstFailureInOrderIsThrown()
    {
        var e = Within.Throws<InvalidOperationException>(() => OrderedParallel.Map(Enumerable.Range(0, 100).ToArray(), i =>
        {
            if (i == 3) { Thread.Sleep(200); throw new InvalidOperationException("3"); }
            if (i == 4) throw new InvalidOperationException("4");
            return i;
        }, degree: 2).ToList());
        Assert.Equal("3", e.Message);
    }

    /// <summary>The consumer stopped (Select-Object -First, Ctrl+C) while a worker is mid-item: disposing returns at once, the workers end.</summary>
    [Fact]
    public void DisposingWhileAWorkerIsBusyReturnsAndTheWorkersEnd()
    {
        var running = 0;
        using var release = new ManualResetEventSlim();
        var items = Enumerable.Range(0, 1000).ToArray();
        var e = OrderedParallel.Map(items, i =>
        {
            Interlocked.Increment(ref running);
            if (i == 1) release.Wait(TimeSpan.FromSeconds(10));
            Interlocked.Decrement(ref running);
            return i;
        }, degree: 2, window: 4).GetEnumerator();
        Assert.True(e.MoveNext());
        Within.Seconds(() => { e.Dispose(); return 0; });
        release.Set();
        Thread.Sleep(200);
        Assert.Equal(0, Volatile.Read(ref running));
    }

    [Fact]
    public void OneThreadOrAnEmptyListWork()
    {
        Assert.Equal([1, 2, 3], OrderedParallel.Map([0, 1, 2], i => i + 1, degree: 1).ToList());
        Assert.Empty(OrderedParallel.Map(Array.Empty<int>(), i => i, degree: 2));
    }
}
