using System.Management.Automation;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Files;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell;

/// <summary>The ErrorRecords of the configuration cmdlets: one a failed item, ids and categories by cause.</summary>
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
            cmdlet.WriteError(new ErrorRecord(e, e.Reason switch
            {
                ParameterChangeFailure.ModuleNotLoaded => "ModuleNotLoaded",
                ParameterChangeFailure.UnknownParameter => "ParameterNotDeclared",
                ParameterChangeFailure.ReadOnly => "ParameterReadOnly",
                ParameterChangeFailure.InvalidValue => "ParameterValueInvalid",
                _ => "ParameterWriteFailed",
            }, e.Reason switch
            {
                ParameterChangeFailure.ModuleNotLoaded => ErrorCategory.ObjectNotFound,
                ParameterChangeFailure.UnknownParameter => ErrorCategory.ObjectNotFound,
                ParameterChangeFailure.ReadOnly => ErrorCategory.PermissionDenied,
                ParameterChangeFailure.InvalidValue => ErrorCategory.InvalidArgument,
                _ => ErrorCategory.WriteError,
            }, $"{e.Module}.{e.Parameter}")
            {
                ErrorDetails = new ErrorDetails(e.Message)
                {
                    RecommendedAction = e.Reason switch
                    {
                        ParameterChangeFailure.ReadOnly => "Give the value at load time: Import-KernelModule -Parameters, or 'options' in modprobe.d, then reload the module.",
                        ParameterChangeFailure.ModuleNotLoaded => "Load the module first (Import-KernelModule), or give the value with -Parameters when loading it.",
                        ParameterChangeFailure.UnknownParameter => "Get-KernelModule NAME | Select-Object -ExpandProperty Parameters lists what the module declares.",
                        ParameterChangeFailure.InvalidValue => "Give a value of the parameter's type (Get-KernelModule -ListAvailable NAME shows the types).",
                        _ => "Run as root; check the kernel log for the module's own message.",
                    },
                },
            });
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
