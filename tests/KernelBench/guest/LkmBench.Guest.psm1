# Helpers for test scripts that run inside the kernel bench guest (tests/KernelBench).
# Import-Module "$env:LKMBENCH_REPO/tests/KernelBench/guest/LkmBench.Guest.psm1"

function Test-LkmBenchGuest {
    <# True inside the bench guest (a real kernel with loadable modules, set up by Invoke-KernelBench.ps1). #>
    [bool]$env:LKMBENCH -and (Test-Path /proc/modules)
}

function Invoke-LkmBenchUnprivileged {
    <#
    .SYNOPSIS
        Runs a /bin/sh command line as the guest's unprivileged user ($env:LKMBENCH_USER, uid $env:LKMBENCH_UID).
    .DESCRIPTION
        Uses util-linux setpriv (no PAM, no password): real and effective uid/gid set to the user,
        supplementary groups cleared, a clean environment with HOME=/home/<user>. Returns an object
        with ExitCode and Output (stdout and stderr merged, as lines).
    .EXAMPLE
        (Invoke-LkmBenchUnprivileged 'insmod /lib/modules/$(uname -r)/kernel/drivers/net/dummy.ko').Output
        # insmod: ERROR: could not insert module ...: Operation not permitted
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] [string] $Command)
    $uid = $env:LKMBENCH_UID
    if (-not $uid) { throw 'Invoke-LkmBenchUnprivileged: LKMBENCH_UID is not set; this runs inside the kernel bench guest.' }
    $out = & setpriv "--reuid=$uid" "--regid=$uid" --clear-groups -- /usr/bin/env -i "HOME=/home/$env:LKMBENCH_USER" "USER=$env:LKMBENCH_USER" `
        "PATH=$env:PATH" "LANG=C.UTF-8" "TERM=dumb" /bin/sh -c $Command 2>&1
    [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($out | ForEach-Object { "$_" }) }
}

Export-ModuleMember -Function Test-LkmBenchGuest, Invoke-LkmBenchUnprivileged
