<#
.SYNOPSIS
    Hardening example: disables the kernel modules the CIS benchmarks say nobody should be able to
    load (unused filesystems and network protocols), removes any of them that are loaded, and
    reports compliance as objects. Safe to run again: a second run changes nothing.
.DESCRIPTION
    Each module gets `install NAME /bin/false` and `blacklist NAME` (Disable-KernelModule, in
    LkmPowerShell's own file under /etc/modprobe.d), so neither modprobe nor the kernel's own
    requests can load it. A loaded one is removed when nothing uses it (Remove-KernelModule; one
    that is in use is reported, not forced). The report has one object a module: is it disabled
    and by which file and line, is it blacklisted and where, is it loaded, is it compliant.
.PARAMETER AuditOnly
    Report only; change nothing.
.PARAMETER Root
    Work on an offline image instead of this system (nothing is removed from a kernel then).
.EXAMPLE
    ./Harden-KernelModules.ps1 | Format-Table
.EXAMPLE
    ./Harden-KernelModules.ps1 -AuditOnly | Where-Object { -not $_.Compliant }
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string[]] $Module = @('cramfs', 'freevxfs', 'jffs2', 'hfs', 'hfsplus', 'squashfs', 'udf', 'usb-storage',
                           'dccp', 'sctp', 'rds', 'tipc'),
    [switch] $AuditOnly,
    [string] $Root = '/'
)
$ErrorActionPreference = 'Stop'
Import-Module LkmPowerShell -ErrorAction SilentlyContinue   # when installed; tests import it from the repository

function Get-ModuleCompliance([string] $Name) {
    # The configuration kmod uses, as objects: kmod runs the first install command that matches,
    # and any blacklist entry of the exact name counts.
    $entries = @(Get-KernelModuleConfiguration -Name $Name -Kind Install, Blacklist -Root $Root)
    $normalized = $Name.Replace('-', '_')
    $install = $entries | Where-Object Kind -EQ 'Install' | Select-Object -First 1
    $blacklist = $entries | Where-Object { $_.Kind -eq 'Blacklist' -and $_.Module -eq $normalized } | Select-Object -First 1
    $loaded = [bool](Get-KernelModule -Name $normalized -Root $Root -ErrorAction SilentlyContinue)
    $disabled = [bool]($install -and $install.DisablesLoading)
    [pscustomobject]@{
        PSTypeName    = 'LkmPowerShell.Example.ModuleCompliance'
        Module        = $normalized
        Disabled      = $disabled
        DisabledBy    = if ($disabled) { $install.Location } else { $null }
        Blacklisted   = [bool]$blacklist
        BlacklistedBy = if ($blacklist) { $blacklist.Location } else { $null }
        Loaded        = $loaded
        Compliant     = $disabled -and [bool]$blacklist -and -not $loaded
    }
}

if (-not $AuditOnly) {
    Disable-KernelModule -Name $Module -Root $Root
    if ($Root -eq '/') {
        foreach ($name in $Module) {
            if (Get-KernelModule -Name $name.Replace('-', '_') -ErrorAction SilentlyContinue) {
                # In use is an error for that module only: report it, and go on with the others.
                Remove-KernelModule -Name $name -RemoveUnusedDependency -ErrorAction Continue
            }
        }
    }
}
foreach ($name in $Module) { Get-ModuleCompliance $name }
