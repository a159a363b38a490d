using System.Management.Automation;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell;

/// <summary>Runs the configuration cmdlets' work per item: one ErrorRecord (made by ModuleErrors) a failed item, ids and categories by cause.</summary>
internal static class ModuleConfigurationErrors
{
    /// <summary>Runs one item's work; a failure becomes its ErrorRecord and the result is null.</summary>
    /// <remarks><paramref name="folder"/>: the folder the work reads and writes, as the user knows it (under -Root, the root's), named by the remedies.</remarks>
    public static T? Try<T>(PSCmdlet cmdlet, string target, Func<T?> work, string folder = ModuleDisabler.Directory) where T : class
    {
        try
        {
            return work();
        }
        catch (InvalidModuleNameException e)
        {
            cmdlet.WriteError(ModuleErrors.New(e, e.ErrorId, ErrorCategory.InvalidArgument, target, "Configuration.InvalidModuleName"));
        }
        catch (ParameterChangeException e)
        {
            var (id, category) = e.Reason switch
            {
                ParameterChangeFailure.ModuleNotLoaded => ("ModuleNotLoaded", ErrorCategory.ObjectNotFound),
                ParameterChangeFailure.UnknownParameter => ("ParameterNotDeclared", ErrorCategory.ObjectNotFound),
                ParameterChangeFailure.ReadOnly => ("ParameterReadOnly", ErrorCategory.PermissionDenied),
                ParameterChangeFailure.InvalidValue => ("ParameterValueInvalid", ErrorCategory.InvalidArgument),
                _ => ("ParameterWriteFailed", ErrorCategory.WriteError),
            };
            var remedy = e.Reason switch
            {
                ParameterChangeFailure.ReadOnly => "Parameter.ReadOnly",
                ParameterChangeFailure.ModuleNotLoaded => "Parameter.ModuleNotLoaded",
                ParameterChangeFailure.UnknownParameter => "Parameter.NotDeclared",
                ParameterChangeFailure.InvalidValue => "Parameter.ValueInvalid",
                _ => "Parameter.WriteFailed",
            };
            cmdlet.WriteError(ModuleErrors.New(e, id, category, $"{e.Module}.{e.Parameter}", remedy));
        }
        catch (UnauthorizedAccessException e)
        {
            cmdlet.WriteError(ModuleErrors.New(new UnauthorizedAccessException($"{target}: {e.Message}", e),
                "ConfigurationAccessDenied", ErrorCategory.PermissionDenied, target, "Configuration.AccessDenied"));
        }
        catch (FileRefusedException e)
        {
            // Found reading, before anything was written: the remedy is about that file, never about writing.
            cmdlet.WriteError(ModuleErrors.New(e, "ConfigurationFileRefused", ErrorCategory.InvalidData, target,
                e.Reason == FileRefusal.SymbolicLinkLoop ? "Configuration.LinkLoop" : "Configuration.FileRefused", e.FilePath));
        }
        catch (TimeoutException e)
        {
            cmdlet.WriteError(ModuleErrors.New(e, "ConfigurationLocked", ErrorCategory.ResourceBusy, target, "Configuration.Locked"));
        }
        catch (IOException e)
        {
            cmdlet.WriteError(ModuleErrors.New(e, "ConfigurationWriteFailed", ErrorCategory.WriteError, target, "Configuration.WriteFailed", folder));
        }
        return null;
    }
}
