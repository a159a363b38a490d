using System.Globalization;

namespace LkmPowerShell.Engine.Kernel;

/// <summary>
/// Reads /proc/modules under a <see cref="SystemRoot"/>: the kernel's list of loaded modules, in
/// the kernel's order (newest first), which is the order lsmod prints.
/// </summary>
/// <remarks>
/// The file is read in one go and parsed afterwards, so a module that loads or unloads while we
/// read cannot tear a line: the kernel's seq_file hands out whole lines. Nothing else here touches
/// the module, so a module vanishing later does not matter to this reader.
/// </remarks>
public sealed class ProcModulesReader
{
    public const string SystemPath = "/proc/modules";

    public ProcModulesReader(SystemRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        Root = root;
        Path = root.Resolve(SystemPath);
    }

    public SystemRoot Root { get; }

    /// <summary>/proc/modules under the root.</summary>
    public string Path { get; }

    /// <summary>False when the kernel was built without loadable-module support (CONFIG_MODULES=n).</summary>
    public bool Exists => File.Exists(Path);

    /// <summary>Every loaded module, in the file's order.</summary>
    /// <exception cref="FileNotFoundException">/proc/modules does not exist (see <see cref="Exists"/>).</exception>
    /// <exception cref="ModuleFormatException">A line is not in the kernel's format.</exception>
    public IReadOnlyList<ProcModuleEntry> Read()
    {
        string text;
        try
        {
            text = System.Text.Encoding.UTF8.GetString(Files.SafeFile.ReadAll(Path, Files.FileLimits.KernelFile, Root.Within(Path)));
        }
        catch (DirectoryNotFoundException e)
        {
            // No /proc at all under the root: to callers that is the same as no /proc/modules.
            throw new FileNotFoundException($"Could not find file '{Path}'.", Path, e);
        }
        return Parse(text, Path);
    }

    /// <summary>Parses the whole text of a /proc/modules file; <paramref name="path"/> only names it in errors.</summary>
    public static IReadOnlyList<ProcModuleEntry> Parse(string text, string path = SystemPath)
    {
        var entries = new List<ProcModuleEntry>();
        var offset = 0;
        while (offset < text.Length)
        {
            var end = text.IndexOf('\n', offset);
            if (end < 0) end = text.Length;
            var line = text.AsSpan(offset, end - offset).TrimEnd('\r');
            if (!line.IsWhiteSpace())
                entries.Add(ParseLine(line, path, offset));
            offset = end + 1;
        }
        return entries;
    }

    /// <summary>Parses one line; <paramref name="path"/> and <paramref name="offset"/> only place errors.</summary>
    public static ProcModuleEntry ParseLine(ReadOnlySpan<char> line, string path = SystemPath, long offset = -1)
    {
        // The kernel separates fields with single spaces; splitting on runs of spaces also accepts
        // hand-written fixtures.
        Span<Range> fields = stackalloc Range[9];
        var count = line.Split(fields, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (count is < 6 or > 7)
            throw Bad(path, offset, $"expected 6 or 7 fields (name size refcnt holders state address [taints]), found {Math.Min(count, 8)}{(count > 8 ? " or more" : "")} in '{line}'");

        var name = line[fields[0]];
        var sizeText = line[fields[1]];
        var refText = line[fields[2]];
        var holderText = line[fields[3]];
        var stateText = line[fields[4]];
        var addressText = line[fields[5]];

        if (!long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            throw Bad(path, offset, $"module '{name}': size '{sizeText}' is not a number");

        // "-" for both refcount and holders is what a kernel without CONFIG_MODULE_UNLOAD prints.
        int? refCount = null;
        if (refText is not "-")
        {
            if (!int.TryParse(refText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var r))
                throw Bad(path, offset, $"module '{name}': reference count '{refText}' is not a number");
            refCount = r;
        }

        var holders = new List<string>();
        var permanent = false;
        if (holderText is not "-")
        {
            foreach (var range in holderText.Split(','))
            {
                var holder = holderText[range];
                if (holder.IsEmpty) continue; // the kernel ends every holder with ","
                if (holder is "[permanent]") permanent = true;
                else holders.Add(holder.ToString());
            }
        }

        var state = ModuleStates.FromProc(stateText)
            ?? throw Bad(path, offset, $"module '{name}': state '{stateText}' is not Live, Loading or Unloading");

        var hex = addressText.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? addressText[2..] : addressText;
        if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var address))
            throw Bad(path, offset, $"module '{name}': address '{addressText}' is not hexadecimal");

        var taints = "";
        if (count == 7)
        {
            var t = line[fields[6]];
            if (t.Length < 2 || t[0] != '(' || t[^1] != ')')
                throw Bad(path, offset, $"module '{name}': taint field '{t}' is not '(letters)'");
            // module_flags() appends '-' while unloading and '+' while loading: that is the state, not a taint.
            taints = t[1..^1].ToString().Replace("+", "").Replace("-", "");
        }

        return new ProcModuleEntry(name.ToString(), size, refCount, holders.ToArray(), permanent, state,
            address == 0 ? null : address, taints);
    }

    private static ModuleFormatException Bad(string path, long offset, string problem) => new(path, offset, problem);
}
