using System.Management.Automation;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell;

/// <summary>
/// Refuses, on a -Name that takes module names only, a string that is plainly a module file (it
/// ends in .ko, .ko.xz, .ko.gz or .ko.zst: "./msdos.ko", the Name of a FileInfo), with the exact
/// command to type instead; the name lookup would otherwise say "no module named './msdos.ko'".
/// </summary>
/// <remarks>
/// Only the extension decides here. A name with a '/' and no module extension ("../x") is not
/// plainly a file: it stays an ordinary bad name, refused per item by the cmdlet (InvalidModuleName,
/// ModuleNotFound), so the other names of the same call still happen. A binding refusal ends the
/// whole command line, as every PowerShell validation attribute does; from the pipeline it is per item.
/// </remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateNotAFileAttribute(string command) : ValidateEnumeratedArgumentsAttribute
{
    /// <summary>The cmdlet's name, for the remedy.</summary>
    public string Command { get; } = command;

    /// <summary>A parameter of the cmdlet that takes the file itself, when it has one (Import-KernelModule's -LiteralPath).</summary>
    public string? PathParameter { get; init; }

    /// <summary>What the parameter takes instead, for the message: "module name" unless said otherwise.</summary>
    public string Takes { get; init; } = "module name";

    /// <summary>The whole remedy, when the default wording does not fit: {0} is the path as given.</summary>
    public string? Instead { get; init; }

    protected override void ValidateElement(object element)
    {
        if (element is not string name || !ModuleFileNames.IsModuleFile(name))
            return;
        var module = ModuleNameOfFile(name);
        var instead = Instead is not null ? string.Format(System.Globalization.CultureInfo.InvariantCulture, Instead, name)
            : PathParameter is null
            ? $"{Command} {module} (it takes module names)"
            : $"{Command} {module} (by name, with its dependencies), or {Command} -{PathParameter} '{name}' (that file alone)";
        throw new ValidationMetadataException($"'{name}' is a module file, not a {Takes}. Type: {instead}.");
    }

    /// <summary>The module name a file's name implies: its last component without the module extension.</summary>
    internal static string ModuleNameOfFile(string path)
    {
        var file = path[(path.LastIndexOf('/') + 1)..];
        foreach (var ext in ModuleFileNames.Extensions.OrderByDescending(e => e.Length))
            if (file.EndsWith(ext, StringComparison.Ordinal))
                return file[..^ext.Length];
        return file;
    }
}
