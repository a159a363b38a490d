using System.Collections;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;
using Microsoft.Win32.SafeHandles;

namespace LkmPowerShell.Engine.Tests.Loading;

/// <summary>
/// A kernel that keeps real state, for the write side's tests on any machine (kmod's testsuite
/// does the same with preloaded fake syscalls). It reads the module image it is given, refuses
/// what the real kernel refuses (unknown symbols, another release's vermagic, a malformed integer
/// parameter, a module in use, a name already loaded), keeps use counts and holders as the kernel
/// does (a module holds every module whose symbols it uses), logs as the kernel logs, taints, and
/// can be told to answer any errno at any call.
/// </summary>
/// <remarks>
/// The kernel image's exports are taken to be every symbol that no module of the tree exports
/// (Debian ships no System.map to read them from): exactly what depmod assumes too.
/// </remarks>
public sealed class FakeKernel : IKernel
{
    private static readonly HashSet<string> Bookkeeping = new(StringComparer.Ordinal) { "module_layout", "struct_module" };

    private sealed class Module(string name, ModuleFileInfo file, IReadOnlyDictionary<string, string> parameters, IReadOnlyList<string> uses)
    {
        public string Name { get; } = name;
        public ModuleFileInfo File { get; } = file;
        public IReadOnlyDictionary<string, string> Parameters { get; } = parameters;
        public IReadOnlyList<string> Uses { get; } = uses;
        public List<string> Holders { get; } = [];

        /// <summary>References held by something other than a module (a mount, an open device).</summary>
        public int OtherUses { get; set; }

        public int ReferenceCount => Holders.Count + OtherUses;
    }

    private readonly List<Module> _loaded = []; // oldest first; /proc/modules lists newest first
    private readonly ModuleDirectory _tree;
    private readonly List<(string Call, string? Module, int Errno, int Times)> _faults = [];
    private readonly Dictionary<string, int> _releaseAfterAttempts = new(StringComparer.Ordinal);

    public FakeKernel(SystemRoot root, ModuleDirectory tree)
    {
        Root = root;
        _tree = tree;
        Release = tree.KernelVersion;
    }

    public SystemRoot Root { get; }
    public string? Release { get; set; }
    public bool CallerMayManageModules { get; set; } = true;
    public bool SupportsModules { get; set; } = true;
    public string? ModulesUnsupportedReason => SupportsModules ? null : "This kernel has no loadable-module support: /proc/modules does not exist.";
    public string? Decompression { get; set; }
    public bool SignaturesEnforced { get; set; }
    public ulong TaintValue { get; private set; }
    public KernelTaint? Tainted => KernelTaint.FromValue(TaintValue);

    /// <summary>Everything the kernel logged, oldest first.</summary>
    public List<string> Log { get; } = [];

    /// <summary>Every syscall, in order: "finit_module(fat)", "init_module(fat)", "delete_module(fat)" with the errno answered.</summary>
    public List<string> Calls { get; } = [];

    /// <summary>The names loaded, oldest first.</summary>
    public IReadOnlyList<string> LoadedNames => _loaded.Select(m => m.Name).ToList();

    /// <summary>
    /// The next <paramref name="times"/> calls of <paramref name="call"/> ("finit_module",
    /// "init_module", "delete_module", or "insert" for either load call) for <paramref name="module"/>
    /// (any module when null) answer <paramref name="errno"/> and change nothing.
    /// </summary>
    public FakeKernel Fail(string call, string? module, int errno, int times = 1)
    {
        _faults.Add((call, module is null ? null : ModuleName.Normalize(module), errno, times));
        return this;
    }

    /// <summary>Something other than a module holds <paramref name="module"/> and lets go after that many delete_module attempts.</summary>
    public FakeKernel HoldUntilAttempts(string module, int attempts)
    {
        var m = Find(module) ?? throw new InvalidOperationException($"{module} is not loaded");
        m.OtherUses++;
        _releaseAfterAttempts[m.Name] = attempts;
        return this;
    }

    public IReadOnlyList<LoadedModule> GetLoadedModules() => Enumerable.Reverse(_loaded).Select(Snapshot).ToList();

    public LoadedModule? GetLoadedModule(string name) => Find(name) is { } m ? Snapshot(m) : null;

    public string[] ReadHolders(string name) => Find(name)?.Holders.ToArray() ?? [];

    public IReadOnlyDictionary<string, string?>? ReadExports() => new Exports(this);

    public IKernelLog? OpenLog() => new LogCursor(Log);

    public int FinitModule(SafeFileHandle file, string parameters, int flags)
    {
        var bytes = new byte[RandomAccess.GetLength(file)];
        RandomAccess.Read(file, bytes, 0);
        var compression = ModuleDecompressor.Detect(bytes);
        if (compression != ModuleCompression.None)
        {
            if ((flags & ModuleSyscallFlags.CompressedFile) == 0 || ModuleLoader.CompressionName(compression) != Decompression)
                return Answer("finit_module", "?", ModuleErrno.ENOEXEC);
        }
        return Insert("finit_module", bytes, parameters, flags);
    }

    public int InitModule(ReadOnlySpan<byte> image, string parameters)
    {
        var bytes = image.ToArray();
        if (ModuleDecompressor.Detect(bytes) != ModuleCompression.None)
            return Answer("init_module", "?", ModuleErrno.ENOEXEC);
        return Insert("init_module", bytes, parameters, 0);
    }

    public int DeleteModule(string name, int flags)
    {
        var normalized = ModuleName.Normalize(name);
        if (Injected("delete_module", normalized) is { } errno)
            return Answer("delete_module", normalized, errno);
        if (!CallerMayManageModules)
            return Answer("delete_module", normalized, ModuleErrno.EPERM);
        if (Find(normalized) is not { } m)
            return Answer("delete_module", normalized, ModuleErrno.ENOENT);
        if (m.ReferenceCount > 0)
        {
            if (_releaseAfterAttempts.TryGetValue(m.Name, out var left))
            {
                if (left <= 1)
                {
                    _releaseAfterAttempts.Remove(m.Name);
                    m.OtherUses--;
                }
                else
                {
                    _releaseAfterAttempts[m.Name] = left - 1;
                }
            }
            if (m.ReferenceCount > 0)
            {
                if ((flags & ModuleSyscallFlags.Truncate) == 0)
                    return Answer("delete_module", normalized, ModuleErrno.EWOULDBLOCK);
                TaintValue |= 1UL << 3; // R: forced rmmod
            }
        }
        foreach (var used in m.Uses)
            Find(used)?.Holders.Remove(m.Name);
        _loaded.Remove(m);
        return Answer("delete_module", normalized, 0);
    }

    private int Insert(string call, byte[] image, string parameters, int flags)
    {
        ModuleFileInfo file;
        try
        {
            file = ModuleFileReader.Parse(image, "(image)", image.Length);
        }
        catch (ModuleFormatException)
        {
            return Answer(call, "?", ModuleErrno.ENOEXEC);
        }
        var name = ModuleName.Normalize(file.InternalName ?? file.GetValue("name") ?? "?");
        if (Injected(call, name) is { } errno)
            return Answer(call, name, errno);
        if (!CallerMayManageModules)
            return Answer(call, name, ModuleErrno.EPERM);
        if (!SupportsModules)
            return Answer(call, name, ModuleErrno.ENOSYS);
        if (Find(name) is not null)
            return Answer(call, name, ModuleErrno.EEXIST);

        var vermagic = file.GetValue("vermagic");
        if ((flags & ModuleSyscallFlags.IgnoreVermagic) == 0 && vermagic is { Length: > 0 } && vermagic.Split(' ')[0] != Release)
        {
            Log.Add($"{name}: version magic '{vermagic}' should be '{Release} ...'");
            return Answer(call, name, ModuleErrno.ENOEXEC);
        }
        if (SignaturesEnforced && file.Signature is null)
        {
            Log.Add($"Loading of unsigned module is rejected");
            return Answer(call, name, ModuleErrno.EKEYREJECTED);
        }

        var uses = new List<string>();
        var unknown = false;
        foreach (var need in file.RequiredSymbols)
        {
            if (Bookkeeping.Contains(need.Name))
                continue;
            if (ProviderOf(need.Name) is { } provider)
            {
                if (provider.Length > 0 && !uses.Contains(provider))
                    uses.Add(provider);
            }
            else if (!need.IsWeak)
            {
                Log.Add($"{name}: Unknown symbol {need.Name} (err -2)");
                unknown = true;
            }
        }
        if (unknown)
            return Answer(call, name, ModuleErrno.ENOENT);

        var declared = file.Parameters.ToDictionary(p => p.Name.Replace('-', '_'), p => p.Type ?? "", StringComparer.Ordinal);
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in ModuleParameters.Parse(parameters))
        {
            var key = p.Name.Replace('-', '_');
            if (!declared.TryGetValue(key, out var type))
            {
                Log.Add($"{name}: unknown parameter '{p.Name}' ignored");
                continue;
            }
            if (!ValueFits(type, p.Value))
            {
                Log.Add($"{name}: '{p.Value}' invalid for parameter '{p.Name}'");
                return Answer(call, name, ModuleErrno.EINVAL);
            }
            values[key] = p.Value ?? "Y";
        }

        var module = new Module(name, file, values, uses);
        foreach (var used in uses)
            Find(used)!.Holders.Add(name);
        _loaded.Add(module);
        if (file.Signature is null)
            TaintValue |= 1UL << 13; // E: unsigned module
        return Answer(call, name, 0);
    }

    /// <summary>"" for the kernel image, a module name, or null when nothing exports the symbol.</summary>
    private string? ProviderOf(string symbol)
    {
        foreach (var m in _loaded)
            if (m.File.Exports.Any(e => e.Name == symbol))
                return m.Name;
        return _tree.FindSymbolProviders(symbol).Count == 0 ? "" : null;
    }

    /// <summary>The kernel's own integer parsing, for the types modinfo shows ("int", "array of int", "uint", ...).</summary>
    private static bool ValueFits(string type, string? value)
    {
        var element = type.StartsWith("array of ", StringComparison.Ordinal) ? type[9..] : type;
        var items = type.StartsWith("array of ", StringComparison.Ordinal) ? (value ?? "").Split(',') : [value ?? ""];
        return element switch
        {
            "int" or "long" or "short" => items.All(v => long.TryParse(v, out _) || TryHex(v)),
            "uint" or "ulong" or "ushort" or "byte" => items.All(v => ulong.TryParse(v, out _) || TryHex(v)),
            "bool" or "invbool" => items.All(v => value is null || v is "0" or "1" or "y" or "Y" or "n" or "N"),
            _ => true,
        };
    }

    private static bool TryHex(string v) => v.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && ulong.TryParse(v[2..], System.Globalization.NumberStyles.HexNumber, null, out _);

    private int? Injected(string call, string module)
    {
        for (var i = 0; i < _faults.Count; i++)
        {
            var f = _faults[i];
            var callMatches = f.Call == call || (f.Call == "insert" && call is "finit_module" or "init_module");
            if (!callMatches || (f.Module is not null && f.Module != module))
                continue;
            if (f.Times <= 1) _faults.RemoveAt(i);
            else _faults[i] = f with { Times = f.Times - 1 };
            return f.Errno;
        }
        return null;
    }

    private int Answer(string call, string module, int errno)
    {
        Calls.Add($"{call}({module}) = {errno}");
        return errno;
    }

    private Module? Find(string name)
    {
        var wanted = ModuleName.Normalize(name);
        return _loaded.FirstOrDefault(m => m.Name == wanted);
    }

    private static LoadedModule Snapshot(Module m) =>
        new(m.Name, 16384, m.ReferenceCount, m.Holders.ToArray(), ModuleState.Live, null, "", m.File.GetValue("version"),
            m.File.GetValue("srcversion"), new Dictionary<string, string>(m.Parameters), [], 0, 16384, false, false);

    private sealed class LogCursor(List<string> log) : IKernelLog
    {
        private int _next = log.Count;

        public IReadOnlyList<string> ReadNew(int max = 200)
        {
            var lines = log.Skip(_next).Take(max).ToList();
            _next += lines.Count;
            return lines;
        }

        public void Dispose()
        {
        }
    }

    /// <summary>kallsyms' exports, answered per symbol: loaded modules' own, and the kernel image's (all the rest).</summary>
    private sealed class Exports(FakeKernel kernel) : IReadOnlyDictionary<string, string?>
    {
        /// <summary>A real kernel exports well over 10,000 symbols; the figure only has to look like one.</summary>
        public int Count => 20000;

        public bool TryGetValue(string key, out string? value)
        {
            value = null;
            if (kernel.ProviderOf(key) is not { } provider)
                return false;
            value = provider.Length == 0 ? null : provider;
            return true;
        }

        public bool ContainsKey(string key) => TryGetValue(key, out _);
        public string? this[string key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException(key);
        public IEnumerable<string> Keys => throw new NotSupportedException("The fake answers per symbol.");
        public IEnumerable<string?> Values => throw new NotSupportedException("The fake answers per symbol.");
        public IEnumerator<KeyValuePair<string, string?>> GetEnumerator() => throw new NotSupportedException("The fake answers per symbol.");
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
