<#
.SYNOPSIS
    Example provisioning script: makes sure a machine has the kernel modules it needs, now and at
    every boot. Safe to run again and again: modules already loaded are left as they are.
    Writes one line a module, saying whether this run changed it (as Ansible's "changed"), so a
    second run reports nothing changed.
.EXAMPLE
    ./Provision-KernelModules.ps1 -Module dummy, brd -Parameters @{ dummy = @{ numdummies = 2 }; brd = 'rd_nr=1 rd_size=4096' }
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string[]] $Module = @('dummy'),
    [hashtable] $Parameters = @{ dummy = @{ numdummies = 2 } },
    [string[]] $Absent = @()
)
$ErrorActionPreference = 'Stop'
Import-Module LkmPowerShell -ErrorAction SilentlyContinue   # when installed; tests import it from the repository

foreach ($name in $Module) {
    $splat = @{ Name = $name; Persist = $true; PassThru = $true }
    if ($Parameters.ContainsKey($name)) { $splat.Parameters = $Parameters[$name] }
    $loaded = Import-KernelModule @splat
    [pscustomobject]@{ Module = $name; Ensure = 'Present'; Changed = [bool]$loaded.Changed }
}
foreach ($name in $Absent) {
    $removed = Remove-KernelModule -Name $name -RemoveUnusedDependency -Persist -PassThru
    [pscustomobject]@{ Module = $name; Ensure = 'Absent'; Changed = [bool]$removed.Changed }
}
