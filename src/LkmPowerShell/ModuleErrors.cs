using System.Globalization;
using System.Management.Automation;
using System.Resources;
using LkmPowerShell.Engine.Kernel;
using LkmPowerShell.Engine.Loading;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell;

/// <summary>
/// Turns the write side's failures into ErrorRecords: the category follows the cause (the errno),
/// the ErrorId is stable and names the cause, and the remedy (worded once, in
/// Resources/Remedies.resx) goes into RecommendedAction only; the message is the engine's facts. The engine's exception stays the record's exception, so its facts (Errno, Holders,
/// KernelMessages, RolledBack) remain readable.
/// </summary>
public static partial class ModuleErrors
{
    private static readonly ResourceManager Resources = new("LkmPowerShell.Resources.Remedies", typeof(ModuleErrors).Assembly);

    /// <summary>The remedy stored under <paramref name="key"/>, formatted; throws for an unknown key (a test checks every key).</summary>
    public static string Remedy(string key, params object?[] args) =>
        string.Format(CultureInfo.CurrentCulture,
            Resources.GetString(key, CultureInfo.CurrentUICulture) ?? throw new KeyNotFoundException($"No remedy '{key}' in Remedies.resx."), args);

    public static ErrorCategory Category(FailureCause cause) => cause switch
    {
        FailureCause.NoPrivilege => ErrorCategory.PermissionDenied,
        FailureCause.UnknownSymbol or FailureCause.NotLoaded => ErrorCategory.ObjectNotFound,
        FailureCause.InvalidFormat or FailureCause.WrongSymbolVersion => ErrorCategory.InvalidData,
        FailureCause.InvalidParameters => ErrorCategory.InvalidArgument,
        FailureCause.AlreadyLoaded => ErrorCategory.ResourceExists,
        FailureCause.Busy or FailureCause.InUse => ErrorCategory.ResourceBusy,
        FailureCause.OutOfMemory => ErrorCategory.ResourceUnavailable,
        FailureCause.AccessDenied or FailureCause.SignatureRejected or FailureCause.KeyNotTrusted => ErrorCategory.SecurityError,
        FailureCause.NoModuleSupport => ErrorCategory.NotImplemented,
        FailureCause.CommandFailed => ErrorCategory.InvalidResult,
        FailureCause.Stopped => ErrorCategory.OperationStopped,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>A load, unload or preflight failure.</summary>
    public static ErrorRecord For(ModuleOperationException e, object? target) => e switch
    {
        ModulePrivilegeException => Record(e, "NoPrivilege", ErrorCategory.PermissionDenied, target, Remedy("NoPrivilege")),
        ModuleWouldBeRefusedException r => Record(e, "ModuleWouldBeRefused", Category(r.Cause), target, r.Reason switch
        {
            RefusalReason.BuiltForOtherKernel => Remedy("Refused.BuiltForOtherKernel", r.Module, r.RunningRelease),
            RefusalReason.UnsignedWhileEnforced => Remedy("Refused.UnsignedWhileEnforced", r.Module),
            _ when r.Providers.Count > 0 => Remedy("Refused.MissingSymbols", r.Module, string.Join(" and ", r.Providers)),
            _ => Remedy("Refused.MissingSymbolsUnprovided", r.Module),
        }),
        ModuleCommandException c => Record(e, c.IsRemove ? "RemoveCommandFailed" : "InstallCommandFailed", Category(c.Cause), target,
            Remedy(c.IsRemove ? "Remove.CommandFailed" : "Load.CommandFailed", c.Module)),
        ModuleRemoveException r => Record(e, $"ModuleRemove{r.Cause}", Category(r.Cause), target, r.Cause switch
        {
            FailureCause.NoPrivilege => Remedy("NoPrivilege"),
            FailureCause.InUse when r.Holders.Count > 0 => Remedy("Remove.InUse", r.Module, string.Join(", ", r.Holders)),
            FailureCause.InUse => Remedy("Remove.InUseNoHolders", r.Module),
            FailureCause.Busy => Remedy("Remove.Busy", r.Module),
            _ => Remedy("Remove.Other", r.Module),
        }),
        _ => Record(e, $"ModuleLoad{e.Cause}", Category(e.Cause), target, e.Cause switch
        {
            FailureCause.NoPrivilege => Remedy("NoPrivilege"),
            FailureCause.UnknownSymbol or FailureCause.InvalidFormat or FailureCause.WrongSymbolVersion or FailureCause.InvalidParameters
                or FailureCause.AlreadyLoaded or FailureCause.Busy or FailureCause.OutOfMemory or FailureCause.AccessDenied
                or FailureCause.SignatureRejected or FailureCause.KeyNotTrusted or FailureCause.NoModuleSupport or FailureCause.Stopped
                => Remedy($"Load.{e.Cause}", e.Module),
            _ => Remedy("Load.Other", e.Module),
        }),
    };

    /// <summary>A plan that cannot be made.</summary>
    public static ErrorRecord For(ModulePlanException e, object? target) => e switch
    {
        ModuleNotFoundException nf => Record(e, e.ErrorId, ErrorCategory.ObjectNotFound, target,
            Remedy(nf.AliasTarget is null ? "ModuleNotFound" : "ModuleNotFound.Alias", nf.Module)),
        ModuleInUseException iu => Record(e, e.ErrorId, ErrorCategory.ResourceBusy, target, iu.Holders.Count > 0
            ? Remedy("Remove.InUse", iu.Module, string.Join(", ", iu.Holders))
            : Remedy("Remove.InUseNoHolders", iu.Module)),
        ModuleBlacklistedException => Record(e, e.ErrorId, ErrorCategory.PermissionDenied, target, Remedy("ModuleBlacklisted", e.Module)),
        ModuleDisabledException => Record(e, e.ErrorId, ErrorCategory.PermissionDenied, target, Remedy("ModuleDisabled", e.Module)),
        InvalidModuleNameException => Record(e, e.ErrorId, ErrorCategory.InvalidArgument, target, Remedy("InvalidModuleName", e.Module)),
        ModuleBuiltinException => Record(e, e.ErrorId, ErrorCategory.InvalidOperation, target, Remedy("ModuleBuiltin", e.Module)),
        PersistenceConflictException => Record(e, e.ErrorId, ErrorCategory.ResourceExists, target, Remedy("PersistenceConflict", e.Module)),
        ModuleTreeMissingException m => Record(e, e.ErrorId, ErrorCategory.ObjectNotFound, target, Remedy("ModuleTreeMissing", m.KernelVersion)),
        _ => Record(e, e.ErrorId, ErrorCategory.InvalidOperation, target, null),
    };

    /// <summary>
    /// A kernel version with no module tree: "-Root" named only when one was given, and the installed
    /// versions it is the start of or near to asked first ("Did you mean 6.12.118+deb12-amd64?").
    /// </summary>
    public static ErrorRecord For(Engine.ModuleTree.KernelNotInstalledException e) =>
        Suggestions.AddVersions(Record(e, "KernelNotInstalled", ErrorCategory.ObjectNotFound, e.KernelVersion,
            e.Root.IsHost ? Remedy("KernelNotInstalled") : Remedy("KernelNotInstalled.Root", e.Root.Path)), e.KernelVersion, e.InstalledVersions);

    public static ErrorRecord For(KernelModulesUnsupportedException e) =>
        Record(e, "KernelModulesUnsupported", ErrorCategory.NotImplemented, e.Release, Remedy("KernelModulesUnsupported"));

    /// <summary>An ErrorRecord with no remedy to give: the message says it all. Every ErrorRecord of the module is made here or by the overload below.</summary>
    public static ErrorRecord New(Exception e, string errorId, ErrorCategory category, object? target) =>
        Record(e, errorId, category, target, null);

    /// <summary>
    /// An ErrorRecord with the remedy stored under <paramref name="remedyKey"/> in Remedies.resx
    /// as its RecommendedAction.
    /// </summary>
    public static ErrorRecord New(Exception e, string errorId, ErrorCategory category, object? target, string remedyKey, params object?[] args) =>
        Record(e, errorId, category, target, Remedy(remedyKey, args));

    /// <summary>
    /// The engine's exception with its facts as the shown message, and the remedy only in
    /// RecommendedAction: the console prints that itself ("Recommendation: ..."), so it is said once.
    /// </summary>
    private static ErrorRecord Record(Exception e, string errorId, ErrorCategory category, object? target, string? remedy)
    {
        var record = new ErrorRecord(e, errorId, category, target);
        if (remedy is not null)
            record.ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = remedy };
        return record;
    }
}
