namespace LkmPowerShell.Engine;

/// <summary>
/// A growable array for the hot loops of reading modules and resolving dependencies. Why not
/// List&lt;T&gt;: the engine is compiled ahead of time (ReadyToRun), but List&lt;T&gt; over one of the
/// engine's own structs is framework code that no image holds precompiled, so a fresh process
/// JIT-compiles it at the lowest tier and runs hundreds of thousands of Adds through that slow code
/// before it is recompiled. This type lives in the engine, so its instantiations are precompiled
/// with the engine (measured: the methods a fresh process JIT-compiles for depmod, see the README).
/// </summary>
internal struct ArrayBuilder<T>
{
    private T[] _items;
    private int _count;

    public ArrayBuilder(int capacity) => _items = new T[Math.Max(0, capacity)];

    public readonly int Count => _count;

    public readonly ref T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count)
                throw new ArgumentOutOfRangeException(nameof(index));
            return ref _items[index];
        }
    }

    public void Add(T item)
    {
        _items ??= [];
        if (_count == _items.Length)
        {
            // Array.Copy, not Array.Resize<T>: no framework generic over the item type to compile.
            var grown = new T[Math.Max(4, _items.Length * 2)];
            Array.Copy(_items, grown, _count);
            _items = grown;
        }
        _items[_count++] = item;
    }

    /// <summary>Removes and returns the last item (the list used as a stack).</summary>
    public T Pop() => _count > 0 ? _items[--_count] : throw new InvalidOperationException("the list is empty");

    public readonly T[] ToArray()
    {
        if (_count == 0)
            return [];
        var result = new T[_count];
        Array.Copy(_items, result, _count);
        return result;
    }
}
