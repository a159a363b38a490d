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

    [Fact]
    public void TheConsumerMapsItemsItselfWhileItWaits()
    {
        var consumer = Environment.CurrentManagedThreadId;
        var byConsumer = 0;
        var items = Enumerable.Range(0, 200).ToArray();
        var results = OrderedParallel.Map(items, i =>
        {
            if (Environment.CurrentManagedThreadId == consumer)
                Interlocked.Increment(ref byConsumer);
            Thread.Sleep(1);
            return i;
        }, degree: 2, window: 16).ToList();
        Assert.Equal(items, results);
        // Each result it waited for, it spent mapping a later item rather than asleep.
        Assert.InRange(byConsumer, 1, 200);
    }

    [Fact]
    public void OneThreadOrAnEmptyListWork()
    {
        Assert.Equal([1, 2, 3], OrderedParallel.Map([0, 1, 2], i => i + 1, degree: 1).ToList());
        Assert.Empty(OrderedParallel.Map(Array.Empty<int>(), i => i, degree: 2));
    }
}
