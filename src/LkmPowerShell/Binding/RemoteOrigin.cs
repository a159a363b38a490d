using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace LkmPowerShell;

/// <summary>
/// Keeps a path that came from another machine (a FileInfo returned by Invoke-Command, which
/// remoting stamps with that machine's PSComputerName) from being acted on here as if it were
/// this machine's file.
/// </summary>
/// <remarks>
/// The binder turns the piped file into a plain string before the cmdlet sees it, and a string
/// carries no origin. So the binding attribute that recognises the file hands over a string of
/// its own making and records, against that very instance (reference identity, not text), the
/// machine it came from; the cmdlet asks <see cref="Refusal"/> about the value it was given and
/// writes the refusal as one ErrorRecord for that item. A path typed or built here is never
/// that instance, so it is never refused.
/// </remarks>
public static class RemoteOrigin
{
    private static readonly ConditionalWeakTable<string, string> Origins = new();

    /// <summary>The other machine an object came from (its PSComputerName), or null when it is this one or unknown.</summary>
    public static string? OtherComputer(object? input)
    {
        if (input is not PSObject bag || bag.Properties["PSComputerName"]?.Value is not string computer || string.IsNullOrWhiteSpace(computer))
            return null;
        return IsThisComputer(computer) ? null : computer;
    }

    /// <summary>Localhost by any of its usual names, or this machine's own name (short or qualified).</summary>
    public static bool IsThisComputer(string computer)
    {
        var name = computer.Trim().TrimEnd('.');
        if (name is "." || name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name is "127.0.0.1" or "::1")
            return true;
        var here = Environment.MachineName;
        string? dns = null;
        try { dns = System.Net.Dns.GetHostName(); } catch (System.Net.Sockets.SocketException) { }
        return Same(name, here) || (dns is not null && Same(name, dns));

        static bool Same(string a, string b) =>
            a.Equals(b, StringComparison.OrdinalIgnoreCase) || a.Split('.')[0].Equals(b.Split('.')[0], StringComparison.OrdinalIgnoreCase)
            && (a.Contains('.') || b.Contains('.'));
    }

    /// <summary>A copy of <paramref name="path"/> that remembers it is <paramref name="computer"/>'s.</summary>
    public static string Mark(string path, string computer)
    {
        var marked = new string(path.AsSpan());
        Origins.AddOrUpdate(marked, computer);
        return marked;
    }

    /// <summary>
    /// A module object from another machine (a Deserialized.LkmPowerShell.* bag with a Name and a
    /// PSComputerName of another machine) as its name, marked with that machine; null for anything else.
    /// </summary>
    /// <remarks>
    /// A module name means the same module on every machine, so such an object binds -Name as it
    /// always did; the mark only lets the cmdlet say, in Verbose, that it acts here (see docs/binding.md).
    /// </remarks>
    public static string? NameFromOtherComputer(object? input)
    {
        if (OtherComputer(input) is not { } computer || input is not PSObject bag
            || !bag.TypeNames.Any(t => t.StartsWith("Deserialized.LkmPowerShell.", StringComparison.Ordinal))
            || bag.Properties["Name"]?.Value is not string name || name.Length == 0)
            return null;
        return Mark(name, computer);
    }

    /// <summary>Says, in Verbose, which names came from another machine and that this machine's modules of those names are acted on.</summary>
    public static void NoteNames(Cmdlet cmdlet, IEnumerable<string>? names)
    {
        foreach (var name in names ?? [])
            if (name is not null && Origins.TryGetValue(name, out var computer))
                cmdlet.WriteVerbose($"'{name}' came from {computer} (its PSComputerName): acting on this machine's module of that name. To act on {computer}, run the command there: Invoke-Command -Session $session {{ ... }}.");
    }

    /// <summary>
    /// The error for a path that came from another machine (ErrorId PathFromOtherComputer), or null
    /// for a path of this machine. <paramref name="command"/> names the cmdlet for the remedy.
    /// </summary>
    public static ErrorRecord? Refusal(string? path, string command)
    {
        if (path is null || !Origins.TryGetValue(path, out var computer))
            return null;
        var module = ValidateNotAFileAttribute.ModuleNameOfFile(path);
        return ModuleErrors.New(new ArgumentException(
                $"'{path}' came from {computer} (its PSComputerName): the path is that machine's, not this one's, so {command} did not act on it here."),
            "PathFromOtherComputer", ErrorCategory.InvalidArgument, path, "PathFromOtherComputer", computer, command, path, module);
    }
}
