using System.Management.Automation;
using LkmPowerShell.Engine.ModuleTree;

namespace LkmPowerShell;

/// <summary>
/// Refuses, on a -Name that takes module names only, a string that is plainly a module file
/// ("./msdos.ko", "msdos.ko.xz", the Name of a FileInfo), with the exact command to type instead;
/// the name lookup would otherwise say "no module named './msdos.ko'".
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateNotAFileAttribute(string command) : ValidateEnumeratedArgumentsAttribute
{
    /// <summary>The cmdlet's name, for the remedy.</summary>
    public string Command { get; } = command;

    /// <summary>A parameter of the cmdlet that takes the file itself, when it has one (Import-KernelModule's -LiteralPath).</summary>
    public string? PathParameter { get; init; }

    protected override void ValidateElement(object element)
    {
        if (element is not string name || !ModuleFilePaths.LooksLikeFile(name))
            return;
        var module = ModuleNameOfFile(name);
        var instead = PathParameter is null
            ? $"{Command} {module} (it takes module names)"
            : $"{Command} {module} (by name, with its dependencies), or {Command} -{PathParameter} '{name}' (that file alone)";
        throw new ValidationMetadataException($"'{name}' is a module file, not a module name. Type: {instead}.");
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
