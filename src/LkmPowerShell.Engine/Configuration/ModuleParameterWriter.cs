using System.Text;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.ModuleTree;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Configuration;

/// <summary>A parameter changed at run time: its value before and after, as the kernel shows them.</summary>
public sealed record ParameterChange(string Module, string Parameter, string? Type, string? OldValue, string? NewValue, string Path, bool Changed)
{
    public override string ToString() => $"{Module}.{Parameter}: {OldValue} -> {NewValue}";
}

/// <summary>Why a parameter cannot be set; <see cref="Reason"/> tells the kind, the message the cause and the fix.</summary>
public sealed class ParameterChangeException(string module, string parameter, ParameterChangeFailure reason, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string Module { get; } = module;
    public string Parameter { get; } = parameter;
    public ParameterChangeFailure Reason { get; } = reason;
}

public enum ParameterChangeFailure { ModuleNotLoaded, UnknownParameter, ReadOnly, InvalidValue, WriteFailed }

/// <summary>
/// Changes a loaded (or built-in) module's parameter through /sys/module/NAME/parameters/PARAM,
/// after checking what the kernel would otherwise refuse with a bare errno: that the module is
/// there, that it declares the parameter, that the parameter's sysfs mode lets it be written, and
/// that the value fits its type (from the module file's modinfo, or modules.builtin.modinfo).
/// </summary>
public sealed class ModuleParameterWriter(SystemRoot root)
{
    private readonly SysModuleReader _sys = new(root ?? throw new ArgumentNullException(nameof(root)));

    /// <summary>
    /// The module's parameters folder, resolved inside the root and held open, and the name of
    /// the parameter's file in it (as the module spells it: '-' and '_' are the same to the kernel).
    /// </summary>
    private Files.ContainedFolder OpenParameter(string module, string parameter, out string param)
    {
        var name = ModuleName.Normalize(module);
        var dir = _sys.ModuleDirectory(name);
        Files.ContainedFolder? moduleFolder;
        try
        {
            moduleFolder = Files.ContainedFolder.Open(_sys.Root, $"{SysModuleReader.SystemPath}/{name}");
        }
        catch (IOException)
        {
            moduleFolder = null; // a file, FIFO or link loop where the module's folder belongs: not a live module
        }
        if (moduleFolder is null)
            throw new ParameterChangeException(name, parameter, ParameterChangeFailure.ModuleNotLoaded,
                $"{name} is not loaded and not built in ({dir} does not exist): a parameter can only be changed on a live module. Load it first, with the value as a load-time option.");
        moduleFolder.Dispose();
        if (parameter.Contains('/') || parameter.Contains('\0') || parameter is "." or ".." || parameter.Length == 0)
            throw new ParameterChangeException(name, parameter, ParameterChangeFailure.UnknownParameter, $"'{parameter}' is not a parameter name.");
        var paramDir = System.IO.Path.Join(dir, "parameters");
        var folder = _sys.OpenParameters(name);
        if (folder is not null)
        {
            // The attribute's file is named as the module declared it; the kernel takes '-' for '_' (ModuleParameters.SameName).
            foreach (var candidate in new[] { parameter, ModuleParameters.NormalizeName(parameter), parameter.Replace('_', '-') })
            {
                if (folder.Contains(candidate))
                {
                    param = candidate;
                    return folder;
                }
            }
        }
        var declared = folder is null ? [] : folder.Names().Order(StringComparer.Ordinal).ToList();
        folder?.Dispose();
        throw new ParameterChangeException(name, parameter, ParameterChangeFailure.UnknownParameter,
            declared.Count == 0
                ? $"{name} has no parameter '{parameter}': it shows no parameters in {paramDir} (parameters declared with mode 0 are not shown and cannot be changed at run time)."
                : $"{name} has no parameter '{parameter}'; it shows: {string.Join(", ", declared)}. (Parameters declared with mode 0 are not shown and cannot be changed at run time.)");
    }

    /// <summary>The parameter's type from modinfo (<c>int</c>, <c>charp</c>, <c>array of int</c> ...), or null when unknown.</summary>
    public static string? TypeOf(ModuleDirectory? tree, string module, string parameter)
    {
        if (tree is null) return null;
        var name = ModuleName.Normalize(module);
        try
        {
            if (tree.FindModule(name) is { } installed)
                return ModuleFileReader.Read(installed.Path).Parameters.FirstOrDefault(p => ModuleParameters.SameName(p.Name, parameter))?.Type;
            return tree.FindBuiltinModule(name)?.Parameters.FirstOrDefault(p => ModuleParameters.SameName(p.Name, parameter))?.Type;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModuleFormatException)
        {
            return null; // the kernel still checks the value
        }
    }

    /// <summary>The parameter's value now (null when the kernel does not let this user read it, or the file is not a regular file).</summary>
    /// <exception cref="ParameterChangeException">The module is not loaded, or shows no such parameter.</exception>
    public string? CurrentValue(string module, string parameter)
    {
        using var folder = OpenParameter(module, parameter, out var param);
        return SysfsAttribute.Read(folder, param).Value;
    }

    /// <summary>Checks and writes; returns the values before and after. Writing the value it already has is not a change, and nothing is written.</summary>
    /// <exception cref="ParameterChangeException">Every refusal and failure.</exception>
    /// <remarks>
    /// The attribute is opened in its folder held open, never through a link and only as a regular
    /// file (sysfs attributes are): in an image, a link out of the root, a link to /dev/null or a
    /// FIFO is refused before anything is written, and nothing blocks.
    /// </remarks>
    public ParameterChange Set(string module, string parameter, string value, string? type)
    {
        ArgumentNullException.ThrowIfNull(value);
        var name = ModuleName.Normalize(module);
        using var folder = OpenParameter(name, parameter, out var param);
        var planned = Checked(folder, name, param, value, type);
        if (!planned.Changed)
            return planned;
        var (path, old) = (planned.Path, planned.OldValue);
        try
        {
            using var writable = folder.OpenFile(param, Files.FileLimits.KernelFile, write: true, out _);
            RandomAccess.Write(writable, Encoding.UTF8.GetBytes(value), 0);
        }
        catch (Files.FileRefusedException e)
        {
            throw new ParameterChangeException(name, param, ParameterChangeFailure.WriteFailed, $"{e.Message} Nothing was written.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ParameterChangeException(name, param, ParameterChangeFailure.WriteFailed,
                $"Writing {path} was refused ({e.Message}): changing module parameters needs root.", e);
        }
        catch (IOException e)
        {
            throw new ParameterChangeException(name, param, ParameterChangeFailure.WriteFailed,
                $"The kernel refused '{value}' for {name}.{param}{(type is null ? "" : " (" + type + ")")}: {e.Message}. The module's own setter checks the value beyond its type (a range, a state that allows the change); the kernel log may say more.", e);
        }
        var now = SysfsAttribute.Read(folder, param).Value;
        return new ParameterChange(name, param, type, old, now, path, old != now);
    }

    /// <summary>
    /// What <see cref="Set"/> would do, checked exactly as it checks (the module is there, declares
    /// the parameter, lets it be written, and the value fits its type), writing nothing: a dry run
    /// approves only what the real run would try. NewValue is the value asked for.
    /// </summary>
    /// <exception cref="ParameterChangeException">Every refusal <see cref="Set"/> would make before writing.</exception>
    public ParameterChange Plan(string module, string parameter, string value, string? type)
    {
        ArgumentNullException.ThrowIfNull(value);
        var name = ModuleName.Normalize(module);
        using var folder = OpenParameter(name, parameter, out var param);
        return Checked(folder, name, param, value, type);
    }

    /// <summary>The checks before a write, in one place; Changed false when the parameter already has the value.</summary>
    private static ParameterChange Checked(Files.ContainedFolder folder, string name, string param, string value, string? type)
    {
        var path = folder.PathOf(param);
        var mode = folder.Permissions(param) ?? 0;
        if ((mode & 0x92) == 0) // no write bit for user, group or other
            throw new ParameterChangeException(name, param, ParameterChangeFailure.ReadOnly,
                $"{name}.{param} is read-only at run time (its sysfs mode is {Octal(mode)}): the module declared it so. Give it when the module is loaded instead (as a load-time option, or 'options {name} {param}={value}' in modprobe.d), reloading the module if it is loaded.");
        if (ParameterValueCheck.Problem(type, value) is { } problem)
            throw new ParameterChangeException(name, param, ParameterChangeFailure.InvalidValue,
                $"'{value}' does not fit {name}.{param}, a parameter of type {type}: {problem}. Nothing was written.");
        var old = SysfsAttribute.Read(folder, param).Value;
        return old is not null && old == value
            ? new ParameterChange(name, param, type, old, old, path, false)
            : new ParameterChange(name, param, type, old, value, path, true);
    }


    private static string Octal(uint mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8);
}
