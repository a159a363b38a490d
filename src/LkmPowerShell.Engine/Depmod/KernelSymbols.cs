using System.Globalization;
using System.Text;

namespace LkmPowerShell.Engine.Depmod;

/// <summary>The kernel's own exports, for depmod's -E/-F checks: Module.symvers (with CRCs) or System.map (names only).</summary>
internal sealed record KernelSymbols(IReadOnlyList<ProvidedSymbol> Symbols, bool HasCrcs)
{
    /// <summary>
    /// Module.symvers as kmod reads it: "0xCRC\tname\tvmlinux\t..." rows, fields split at spaces and
    /// tabs, only rows whose third field is exactly "vmlinux".
    /// </summary>
    /// <remarks><paramref name="within"/>: the root the file (and any link on its way, such as lib/modules/VERSION/build) must stay inside.</remarks>
    public static KernelSymbols ReadSymVers(string path, Action<DepmodWarning> warn, SystemRoot? within = null)
    {
        var list = new List<ProvidedSymbol>();
        var number = 0;
        foreach (var line in Lines(path, within))
        {
            number++;
            // The line keeps its newline, as fgets gives it to strtok: a row that ends after the
            // third field has "vmlinux\n" there and is skipped, exactly as kmod skips it.
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 3 || fields[2] != "vmlinux")
                continue;
            var hex = fields[0].StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? fields[0][2..] : fields[0];
            if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var crc))
            {
                warn(new DepmodWarning(DepmodWarningKind.InputFile, path, fields[1], $"{path}:{number} Invalid symbol version {fields[0]}"));
                continue;
            }
            list.Add(new ProvidedSymbol(fields[1], crc));
        }
        return new KernelSymbols(list, HasCrcs: true);
    }

    /// <summary>System.map as kmod reads it: the third field of "address type name" lines that start with __ksymtab_.</summary>
    /// <remarks><paramref name="within"/>: the root the file must stay inside.</remarks>
    public static KernelSymbols ReadSystemMap(string path, Action<DepmodWarning> warn, SystemRoot? within = null)
    {
        const string ksymtab = "__ksymtab_";
        var list = new List<ProvidedSymbol>();
        var number = 0;
        foreach (var line in Lines(path, within))
        {
            number++;
            var first = line.IndexOf(' ');
            var second = first < 0 ? -1 : line.IndexOf(' ', first + 1);
            if (second < 0)
            {
                warn(new DepmodWarning(DepmodWarningKind.InputFile, path, null, $"{path}:{number}: invalid line: {line}"));
                continue;
            }
            var name = line[(second + 1)..];
            var newline = name.IndexOf('\n');
            if (newline >= 0) name = name[..newline];
            if (name.StartsWith(ksymtab, StringComparison.Ordinal))
                list.Add(new ProvidedSymbol(name[ksymtab.Length..], 0));
        }
        return new KernelSymbols(list, HasCrcs: false);
    }

    /// <summary>The file's lines as fgets returns them: each with its newline, the last one maybe without.</summary>
    private static IEnumerable<string> Lines(string path, SystemRoot? within)
    {
        var text = Encoding.Latin1.GetString(Files.SafeFile.ReadAll(path, Files.FileLimits.SymbolTable, within));
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            end = end < 0 ? text.Length : end + 1;
            yield return text[start..end];
            start = end;
        }
    }
}
