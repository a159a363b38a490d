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

function Get-ModuleCompliance([string[]] $Names) {
    # The configuration kmod uses, as objects, read once: kmod runs the first install command whose
    # pattern matches a module (entries come in kmod's order), and a blacklist entry of the exact
    # name counts. -clike is fnmatch closely enough for modprobe.d patterns.
    $entries = @(Get-KernelModuleConfiguration -Name $Names -Kind Install, Blacklist -Root $Root)
    $loaded = @(Get-KernelModule -Root $Root -ErrorAction SilentlyContinue).Name
    foreach ($name in $Names) {
        $normalized = $name.Replace('-', '_')
        $install = $entries | Where-Object { $_.Kind -eq 'Install' -and $normalized -clike $_.Module } | Select-Object -First 1
        $blacklist = $entries | Where-Object { $_.Kind -eq 'Blacklist' -and $_.Module -ceq $normalized } | Select-Object -First 1
        $disabled = [bool]($install -and $install.DisablesLoading)
        $isLoaded = $loaded -contains $normalized
        [pscustomobject]@{
            PSTypeName    = 'LkmPowerShell.Example.ModuleCompliance'
            Module        = $normalized
            Disabled      = $disabled
            DisabledBy    = if ($disabled) { $install.Location } else { $null }
            Blacklisted   = [bool]$blacklist
            BlacklistedBy = if ($blacklist) { $blacklist.Location } else { $null }
            Loaded        = $isLoaded
            Compliant     = $disabled -and [bool]$blacklist -and -not $isLoaded
        }
    }
}

if (-not $AuditOnly) {
    Disable-KernelModule -Name $Module -Root $Root
    if ($Root -eq '/') {
        $loaded = @(Get-KernelModule -ErrorAction SilentlyContinue).Name
        foreach ($name in $Module) {
            if ($loaded -contains $name.Replace('-', '_')) {
                # In use is an error for that module only: report it, and go on with the others.
                Remove-KernelModule -Name $name -RemoveUnusedDependency -ErrorAction Continue
            }
        }
    }
}
Get-ModuleCompliance $Module
