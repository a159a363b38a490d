<#
.SYNOPSIS
    Makes many Linux machines load the kernel modules they need (now and at every boot) and
    disable the ones they must not load, over PowerShell remoting. Safe to run again and again.
.DESCRIPTION
    On every machine (Invoke-Command, up to -ThrottleLimit at a time), with LkmPowerShell
    installed there: Import-KernelModule -Persist for each -Module (with -Parameters[name] when
    given), then Disable-KernelModule -Unload for each -Disabled module (the CIS way: an install
    line that loads nothing and a blacklist entry; unloaded too when it is loaded).

    Writes one object a machine and module (type name LkmPowerShell.FleetProvisioning):
    ComputerName, Module, Ensure ('Present' or 'Disabled') and Changed, whether this run changed
    anything there (as Ansible's "changed"). A second run with the same arguments reports Changed
    $false everywhere.

    A machine that cannot be reached gives one non-terminating error (ErrorId FleetSessionFailed),
    one without LkmPowerShell FleetModuleMissing; the other machines finish. A module that fails
    on a machine gives that machine's own error (with its name in PSComputerName), and the
    machine goes on with its other modules.
.PARAMETER Session
    Open sessions (New-PSSession -HostName ..., or -SSHConnection), as root. They are left open.
.PARAMETER SSHConnection
    What New-PSSession -SSHConnection takes, one hashtable a machine: HostName, and as needed
    Port, UserName, KeyFilePath, Options. The script opens the sessions and closes them at the end.
    Can be given with -Session: the machines of both are worked on.
.PARAMETER Module
    The modules every machine must have loaded, now and at boot.
.PARAMETER Parameters
    Module parameters by module name: @{ dummy = @{ numdummies = 2 }; brd = 'rd_nr=1 rd_size=4096' }
    (each value as Import-KernelModule -Parameters takes it).
.PARAMETER Disabled
    The modules no machine may load (CIS: cramfs, freevxfs, usb-storage ...).
.PARAMETER ThrottleLimit
    How many machines are worked on at once (Invoke-Command -ThrottleLimit).
.EXAMPLE
    ./Invoke-FleetProvisioning.ps1 -SSHConnection @{ HostName = 'web1'; UserName = 'root' }, @{ HostName = 'web2'; UserName = 'root' } -Module dummy -Parameters @{ dummy = @{ numdummies = 2 } } -Disabled cramfs

    Loads and persists dummy with two devices and disables cramfs on both machines; one line a
    machine and module says what changed.
.EXAMPLE
    $s = New-PSSession -HostName web1, web2 -UserName root
    ./Invoke-FleetProvisioning.ps1 -Session $s -Disabled cramfs, freevxfs, hfs, hfsplus, jffs2, udf | Where-Object Changed

    Only what this run changed: nothing the second time.
#>
[CmdletBinding()]
param(
    [System.Management.Automation.Runspaces.PSSession[]] $Session = @(),

    [hashtable[]] $SSHConnection = @(),

    [string[]] $Module = @(),

    [hashtable] $Parameters = @{},

    [string[]] $Disabled = @(),

    [ValidateRange(1, [int]::MaxValue)]
    [int] $ThrottleLimit = 32
)

function Write-HostError([string] $ComputerName, [string] $ErrorId, [string] $Message, [System.Management.Automation.ErrorCategory] $Category, [string] $Action) {
    # One error for the machine, named after the cause.
    $record = [System.Management.Automation.ErrorRecord]::new(
        [System.Exception]::new("${ComputerName}: $Message"), $ErrorId, $Category, $ComputerName)
    $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new("${ComputerName}: $Message")
    $record.ErrorDetails.RecommendedAction = $Action
    $PSCmdlet.WriteError($record)
}

# Sessions: the ones given, and one a connection. New-PSSession opens all of those at once (in
# parallel); each connection is then matched to its session by host name and port, and a machine
# that did not answer is reported here and left out, the others go on.
if (-not $Session -and -not $SSHConnection) {
    $record = [System.Management.Automation.ErrorRecord]::new(
        [System.ArgumentException]::new('No machine was given: -Session and -SSHConnection are both empty.'), 'FleetNoMachine', 'InvalidArgument', $null)
    $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($record.Exception.Message)
    $record.ErrorDetails.RecommendedAction = 'Give open sessions with -Session, connections with -SSHConnection, or both.'
    $PSCmdlet.ThrowTerminatingError($record)
}
$opened = @()
$sessions = @($Session)
if ($SSHConnection) {
    $openErrors = @()
    $new = @(New-PSSession -SSHConnection $SSHConnection -ErrorAction SilentlyContinue -ErrorVariable +openErrors)
    $opened = $new
    $claimed = [System.Collections.Generic.HashSet[object]]::new()
    foreach ($connection in $SSHConnection) {
        $name = [string] $connection.HostName
        $port = $connection.Port
        $mine = $new | Where-Object {
            -not $claimed.Contains($_) -and $_.ComputerName -eq $name -and
            (-not $port -or $_.Runspace.ConnectionInfo.Port -eq $port)
        } | Select-Object -First 1
        if ($mine) { [void] $claimed.Add($mine); $sessions += $mine; continue }
        # Its error names the runspace it could not open ([host] in the details, as New-PSSession writes it).
        $why = $openErrors | Where-Object {
            -not $claimed.Contains($_) -and (
                ($_.TargetObject.ConnectionInfo.ComputerName -eq $name -and (-not $port -or $_.TargetObject.ConnectionInfo.Port -eq $port)) -or
                "$($_.ErrorDetails.Message) $($_.Exception.Message)" -like "*$name*")
        } | Select-Object -First 1
        if ($why) { [void] $claimed.Add($why) }
        $message = if ($why) { ($why.ErrorDetails.Message, $why.Exception.Message | Where-Object { $_ } | Select-Object -First 1) } else { 'New-PSSession returned no session for it.' }
        Write-HostError $name 'FleetSessionFailed' "no PowerShell session could be opened: $message" ConnectionError `
            "Check that ssh $name works with the same user and key, and that its sshd_config has 'Subsystem powershell' running pwsh -sshs."
    }
}

try {
    $usable = @()
    foreach ($s in $sessions) {
        if ("$($s.State)" -eq 'Opened') { $usable += $s; continue }
        Write-HostError $s.ComputerName 'FleetSessionFailed' "its session is $($s.State)." ConnectionError 'Open a new session to it (New-PSSession) and run this again.'
    }
    if (-not $usable) { return }

    # The parameters cross the wire as CliXml text: remoting would flatten a hashtable inside a
    # hashtable (@{ dummy = @{ numdummies = 2 } }) to its type name at the default depth.
    $parameterXml = [System.Management.Automation.PSSerializer]::Serialize($Parameters, 5)
    $remoteErrors = @()
    $results = @(Invoke-Command -Session $usable -ThrottleLimit $ThrottleLimit -ErrorAction SilentlyContinue -ErrorVariable +remoteErrors `
            -ArgumentList @($Module), $parameterXml, @($Disabled) -ScriptBlock {
            param([string[]] $Module, [string] $ParameterXml, [string[]] $Disabled)
            Import-Module LkmPowerShell -ErrorAction Stop
            $parameters = [System.Management.Automation.PSSerializer]::Deserialize($ParameterXml)
            foreach ($name in $Module) {
                $splat = @{ Name = $name; Persist = $true; PassThru = $true }
                if ($parameters.ContainsKey($name)) { $splat.Parameters = $parameters[$name] }
                # -PassThru writes the module with Changed: whether this call loaded it or wrote its
                # modprobe.d or modules-load.d lines. Failed (an error, no object): no line for it.
                $loaded = @(Import-KernelModule @splat)
                if ($loaded) { [pscustomobject]@{ Module = $name; Ensure = 'Present'; Changed = [bool] ($loaded.Changed -contains $true) } }
            }
            foreach ($name in $Disabled) {
                $status = @(Disable-KernelModule -Name $name -Unload -PassThru)
                if ($status) { [pscustomobject]@{ Module = $name; Ensure = 'Disabled'; Changed = [bool] ($status.Changed -contains $true) } }
            }
        })

    foreach ($s in $usable) {
        $errors = @($remoteErrors | Where-Object {
                ($_.OriginInfo -and $_.OriginInfo.RunspaceID -eq $s.InstanceId) -or
                (-not $_.OriginInfo -and ($_.TargetObject -eq $s -or "$($_.TargetObject)" -eq $s.ComputerName))
            })
        # A module's own failure is that machine's news, passed on as it came; anything else ends the machine's run.
        foreach ($e in @($errors | Where-Object FullyQualifiedErrorId -Like '*,LkmPowerShell.Commands.*')) { $PSCmdlet.WriteError($e) }
        $fatal = @($errors | Where-Object FullyQualifiedErrorId -NotLike '*,LkmPowerShell.Commands.*') | Select-Object -First 1
        if ($fatal -and $fatal.FullyQualifiedErrorId -like 'Modules_ModuleNotFound*') {
            Write-HostError $s.ComputerName 'FleetModuleMissing' 'LkmPowerShell is not installed there.' ObjectNotFound `
                "Install it there first: Invoke-Command -Session `$s { Install-PSResource LkmPowerShell } (or from a .nupkg, see docs/fleet.md)."
        }
        elseif ($fatal) {
            $reachable = "$($s.State)" -eq 'Opened'
            Write-HostError $s.ComputerName ($(if ($reachable) { 'FleetHostFailed' } else { 'FleetSessionFailed' })) "provisioning did not complete: $($fatal.Exception.Message)" `
                ($(if ($reachable) { 'NotSpecified' } else { 'ConnectionError' })) 'Run it there to see the whole error, then run this again (what is done stays done).'
        }
        foreach ($r in @($results | Where-Object { $_.RunspaceId -eq $s.InstanceId })) {
            [pscustomobject]@{
                PSTypeName   = 'LkmPowerShell.FleetProvisioning'
                ComputerName = $r.PSComputerName
                Module       = $r.Module
                Ensure       = $r.Ensure
                Changed      = [bool] $r.Changed
            }
        }
    }
}
finally {
    if ($opened) { Remove-PSSession -Session $opened -ErrorAction SilentlyContinue }
}
