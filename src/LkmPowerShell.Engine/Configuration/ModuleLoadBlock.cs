using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Engine.Configuration;

/// <summary>
/// What in a configuration stops modprobe from loading a module by name: the first install command
/// that matches it when that command loads nothing (<c>/bin/false</c>), and a blacklist entry of
/// its exact name. One place that answers "is it disabled, and by which file and line", for the
/// disabling cmdlets, listings and refusals alike.
/// </summary>
public sealed record ModuleLoadBlock(string Module, ConfigLocation? DisabledBy, ConfigLocation? BlacklistedBy)
{
    public bool Disabled => DisabledBy is not null;
    public bool Blacklisted => BlacklistedBy is not null;

    public static ModuleLoadBlock Of(ModprobeConfig config, string module)
    {
        ArgumentNullException.ThrowIfNull(config);
        var name = ModuleName.Normalize(module);
        var install = config.InstallCommandFor(name);
        var disabledBy = install is not null && ConfigurationEntry.IsNoOpCommand(install.Command) ? install.Source : null;
        return new ModuleLoadBlock(name, disabledBy, config.BlacklistEntryFor(name)?.Source);
    }
}
