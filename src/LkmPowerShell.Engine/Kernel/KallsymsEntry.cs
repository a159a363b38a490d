namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// One symbol of the running kernel, from /proc/kallsyms.
/// </summary>
/// <param name="Name">The symbol's name.</param>
/// <param name="Address">
/// Its address; null when the kernel hid addresses from this reader (kptr_restrict, no
/// CAP_SYSLOG): the kernel then prints 0 for every symbol, and 0 would be a lie.
/// </param>
/// <param name="Type">
/// nm's type letter: T/t text, D/d data, B/b bss, R/r read-only data, A/a absolute, W/w weak,
/// V/v weak object, U undefined, and so on; upper case is global.
/// </param>
/// <param name="Module">The owning module (kallsyms' "[name]"); null for the kernel image itself.</param>
public sealed record KallsymsEntry(string Name, ulong? Address, char Type, string? Module)
{
    public bool IsGlobal => char.IsAsciiLetterUpper(Type);

    public override string ToString() =>
        $"{(Address is { } a ? a.ToString("x16") : "(hidden)")} {Type} {Name}{(Module is null ? "" : $" [{Module}]")}";
}
