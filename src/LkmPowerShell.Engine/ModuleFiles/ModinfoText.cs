using System.Text;

namespace LkmPowerShell.Engine.ModuleFiles;

/// <summary>
/// kmod's modinfo output for a module file, byte for byte: the text view of a module file's facts
/// and the form the tests compare against Debian's modinfo.
/// </summary>
public static class ModinfoText
{
    /// <summary>
    /// The whole record, as "modinfo FILE" prints it (separator '\n') or "modinfo -0 FILE" ('\0').
    /// </summary>
    public static string Format(ModuleFileInfo module, char separator = '\n')
    {
        var sb = new StringBuilder();
        sb.Append("filename:".PadRight(16)).Append(module.Path).Append(separator);
        AppendFields(sb, module.ModinfoFields(), module.Parameters, separator);
        return sb.ToString();
    }

    /// <summary>
    /// What "modinfo NAME" prints for a built-in module: its name first (a built-in has no file to
    /// name it), "(builtin)" as the file name, then its modules.builtin.modinfo records as a file's.
    /// </summary>
    public static string Format(BuiltinModuleInfo module, char separator = '\n')
    {
        var sb = new StringBuilder();
        sb.Append("name:".PadRight(16)).Append(module.Name).Append(separator);
        sb.Append("filename:".PadRight(16)).Append(BuiltinModuleInfo.FileNameText).Append(separator);
        AppendFields(sb, module.ModInfo, module.Parameters, separator);
        return sb.ToString();
    }

    /// <summary>What "modinfo -F field NAME" prints for a built-in module.</summary>
    public static IEnumerable<string> Field(BuiltinModuleInfo module, string field) => field switch
    {
        "filename" => [BuiltinModuleInfo.FileNameText],
        "parm" => module.Parameters.Select(p => p.ToString()),
        // modinfo prints the name of a built-in before its records, and a record "name" as well.
        "name" => [module.Name, .. module.GetValues("name")],
        _ => module.GetValues(field),
    };

    private static void AppendFields(StringBuilder sb, IEnumerable<ModInfoEntry> fields, IReadOnlyList<ModuleParameterInfo> parameters, char separator)
    {
        foreach (var e in fields)
        {
            if (e.Key is "parm" or "parmtype")
                continue;
            if (separator == '\0')
                sb.Append(e.Key).Append('=').Append(e.Value).Append(separator);
            else
                // printf("%s:%-*s%s") with width 15 - keylen; a negative width also pads.
                sb.Append(e.Key).Append(':').Append(' ', Math.Abs(15 - e.Key.Length)).Append(e.Value).Append(separator);
        }
        foreach (var p in parameters)
        {
            sb.Append("parm:".PadRight(16)).Append(p.Name).Append(':');
            if (p.Description is null)
                sb.Append(p.Type); // the full listing prints a bare type, unlike -F parm
            else if (p.Type is null)
                sb.Append(p.Description);
            else
                sb.Append(p.Description).Append(" (").Append(p.Type).Append(')');
            sb.Append(separator);
        }
    }

    /// <summary>What "modinfo -F field FILE" prints: each value on its own line.</summary>
    public static IEnumerable<string> Field(ModuleFileInfo module, string field)
    {
        if (field == "filename")
            return [module.Path];
        if (field == "parm")
            return module.Parameters.Select(p => p.ToString());
        return module.ModinfoFields().Where(e => e.Key == field).Select(e => e.Value);
    }
}
