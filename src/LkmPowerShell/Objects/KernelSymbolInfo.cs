namespace LkmPowerShell;

/// <summary>
/// A kernel symbol: one in the running kernel (kallsyms), one a module tree or a module file
/// exports, or one a module file needs, with who provides it. Type name LkmPowerShell.KernelSymbol.
/// </summary>
public sealed class KernelSymbol
{
    public required string Name { get; init; }

    /// <summary>kallsyms' type letter (T text, D data, R read-only, B bss, lower case local ...); null outside the running kernel.</summary>
    public string? Type { get; init; }

    /// <summary>Hexadecimal address in the running kernel; null when the kernel hides addresses from this user, or offline.</summary>
    public string? Address
    {
        // Formatted when first read: a listing of all of kallsyms makes 120,000 of these, and
        // most are never looked at.
        get => _address ??= _hasAddress ? $"0x{_addressValue:x16}" : null;
        init => _address = value;
    }

    /// <summary>The address as a number, for <see cref="Address"/> to format when asked.</summary>
    internal ulong? AddressValue
    {
        init
        {
            _hasAddress = value.HasValue;
            _addressValue = value.GetValueOrDefault();
        }
    }

    private string? _address;
    private readonly ulong _addressValue;
    private readonly bool _hasAddress;

    /// <summary>The owner (kallsyms), the exporting module (module tree), or the provider of a needed symbol; null for the kernel image itself.</summary>
    public string? Module { get; init; }

    /// <summary>
    /// The module to act on for this symbol (Module's value): what a symbol piped to
    /// Get-, Import- or Remove-KernelModule stands for. Null when no module provides it.
    /// </summary>
    public string? ModuleName => Module;

    /// <summary>Where the answer came from: RunningKernel, ModuleTree or ModuleFile.</summary>
    public required string Source { get; init; }

    // The properties below are empty for the running kernel's symbols, which a whole listing
    // makes 120,000 of (and "$null = ..." keeps until the pipeline ends): they live in one
    // object made only when one of them is set, so such a symbol is about half the size.
    private FileFacts? _file;
    private FileFacts File => _file ??= new FileFacts();

    private sealed class FileFacts
    {
        public string? Path, Crc, RequiredBy, ProviderKind, ProviderPath;
        public bool IsWeak;
    }

    /// <summary>The module file the answer is about, when one is.</summary>
    public string? Path { get => _file?.Path; init { if (value is not null) File.Path = value; } }

    /// <summary>The modversions CRC, when the module file carries one.</summary>
    public string? Crc { get => _file?.Crc; init { if (value is not null) File.Crc = value; } }

    /// <summary>For -Undefined: the module that needs the symbol.</summary>
    public string? RequiredBy { get => _file?.RequiredBy; init { if (value is not null) File.RequiredBy = value; } }

    /// <summary>For -Undefined: Kernel, LoadedModule, ModuleFile, None (checked: nobody exports it) or Unverified (no module does; the kernel image could not be checked).</summary>
    public string? ProviderKind { get => _file?.ProviderKind; init { if (value is not null) File.ProviderKind = value; } }

    /// <summary>For -Undefined: the module file that provides it when it is not loaded.</summary>
    public string? ProviderPath { get => _file?.ProviderPath; init { if (value is not null) File.ProviderPath = value; } }

    /// <summary>For -Undefined: a weak reference, which loads even when nothing provides it.</summary>
    public bool IsWeak { get => _file?.IsWeak ?? false; init { if (value) File.IsWeak = value; } }

    public override string ToString() => Module is null ? Name : $"{Name} [{Module}]";
}
