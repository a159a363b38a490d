using System.Text.RegularExpressions;

namespace LkmPowerShell.Engine.Audit;

/// <summary>
/// Finds the module loader's taint messages in kernel log lines (kernel/module/main.c and
/// signing.c). The kernel prints some of them only once per boot (the out-of-tree and the
/// unsigned message come with the first such module only), so a missing line proves nothing;
/// a line naming a module that is no longer listed is the evidence.
/// </summary>
internal static partial class KernelLogTaintParser
{
    // Module names are [A-Za-z0-9_-]; the messages are matched whole so that other subsystems'
    // lines starting with "word:" cannot pass for them.
    [GeneratedRegex(@"^(?<m>[A-Za-z0-9_-]+): loading out-of-tree module taints kernel\.?$")]
    private static partial Regex OutOfTree();

    [GeneratedRegex(@"^(?<m>[A-Za-z0-9_-]+): module verification failed: signature and/or required key missing - tainting kernel$")]
    private static partial Regex Unsigned();

    [GeneratedRegex(@"^(?<m>[A-Za-z0-9_-]+): module license '[^']*' taints kernel\.?$")]
    private static partial Regex Proprietary();

    [GeneratedRegex(@"^(?<m>[A-Za-z0-9_-]+): module is from the staging directory")]
    private static partial Regex Staging();

    [GeneratedRegex(@"^(?<m>[A-Za-z0-9_-]+): loading test module taints kernel\.?$")]
    private static partial Regex TestModule();

    [GeneratedRegex(@"^(?<m>[A-Za-z0-9_-]+): tainting kernel with TAINT_LIVEPATCH$")]
    private static partial Regex Livepatch();

    // try_to_force_load and check_version: "x: <reason>: kernel tainted." / "x: no version for "s" found: kernel tainted."
    [GeneratedRegex(@"^(?<m>[A-Za-z0-9_-]+): .+kernel tainted\.$")]
    private static partial Regex Forced();

    // /dev/kmsg records: "priority,sequence,microseconds,flags[,...];text".
    [GeneratedRegex(@"^\d+,\d+,\d+,[^;]*;")]
    private static partial Regex KmsgHeader();

    // dmesg's text: "[   12.345678] text".
    [GeneratedRegex(@"^\[\s*\d+\.\d+\]\s?")]
    private static partial Regex DmesgTimestamp();

    /// <summary>The taint events in the lines, in log order.</summary>
    public static IReadOnlyList<KernelLogTaintEvent> Parse(IEnumerable<string> lines)
    {
        var events = new List<KernelLogTaintEvent>();
        foreach (var raw in lines)
        {
            // Continuation lines of a /dev/kmsg record (" SUBSYSTEM=...") carry no message.
            if (raw.StartsWith(' ')) continue;
            var line = DmesgTimestamp().Replace(KmsgHeader().Replace(raw.TrimEnd('\r', '\n'), "", 1), "", 1);
            if (TryMatch(line) is { } e) events.Add(e);
        }
        return events;
    }

    private static KernelLogTaintEvent? TryMatch(string line)
    {
        foreach (var (regex, letter) in Patterns)
            if (regex.Match(line) is { Success: true } m)
                return new KernelLogTaintEvent(ModuleName.Normalize(m.Groups["m"].Value), letter, line);
        return null;
    }

    private static readonly (Regex, char)[] Patterns =
    [
        (OutOfTree(), 'O'), (Unsigned(), 'E'), (Proprietary(), 'P'), (Staging(), 'C'),
        (TestModule(), 'N'), (Livepatch(), 'K'), (Forced(), 'F'),
    ];
}
