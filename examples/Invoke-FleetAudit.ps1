<#
.SYNOPSIS
    Audits the loaded kernel modules of many Linux machines at once over PowerShell remoting, and
    writes one summary a machine.
.DESCRIPTION
    Runs Test-KernelModule on every machine (Invoke-Command, up to -ThrottleLimit at a time), with
    LkmPowerShell installed there (Install-PSResource LkmPowerShell, or from a .nupkg; see
    docs/fleet.md). This machine needs only PowerShell: the module is imported on the remote side.

    Writes one object a machine (type name LkmPowerShell.FleetAuditHost): ComputerName, Reachable,
    Highest (the highest severity of all its findings, or $null when it reported none),
    FindingCount and Findings (its findings at or above -MinimumSeverity, each carrying
    PSComputerName as remoting adds it), and Error ($null when the machine was audited).

    A machine that cannot be reached gives one non-terminating error (ErrorId
    FleetSessionFailed) and its summary with Reachable $false; one without LkmPowerShell gives
    FleetModuleMissing; any other failure of the remote command FleetHostFailed. The other
    machines finish either way. Errors the audit itself writes on a machine (a file it could not
    read) are passed on as they came, with that machine's name.
.PARAMETER Session
    Open sessions (New-PSSession -HostName ..., or -SSHConnection). They are left open.
.PARAMETER SSHConnection
    What New-PSSession -SSHConnection takes, one hashtable a machine: HostName, and as needed
    Port, UserName, KeyFilePath, Options. The script opens the sessions and closes them at the end.
    Can be given with -Session: the machines of both are worked on.
.PARAMETER MinimumSeverity
    The least severity a finding must have to be in Findings and FindingCount: Informational, Low,
    Medium, High or Critical.
.PARAMETER ThrottleLimit
    How many machines are worked on at once (Invoke-Command -ThrottleLimit).
.EXAMPLE
    ./Invoke-FleetAudit.ps1 -SSHConnection @{ HostName = 'web1'; UserName = 'root' }, @{ HostName = 'web2'; UserName = 'root' }

    One line a machine; a machine with a module hidden from lsmod shows Highest Critical.
.EXAMPLE
    $s = New-PSSession -HostName web1, web2 -UserName root
    ./Invoke-FleetAudit.ps1 -Session $s -MinimumSeverity High | Where-Object Highest -EQ 'Critical' | Select-Object -ExpandProperty Findings

    The findings of High or Critical severity of the machines with a Critical one; each finding
    shows its PSComputerName.
.EXAMPLE
    $report = ./Invoke-FleetAudit.ps1 -SSHConnection (Import-PowerShellDataFile ./fleet.psd1).Hosts -ErrorAction SilentlyContinue
    $report | Where-Object Error | Format-Table ComputerName, Reachable, Error

    Audits a fleet listed in a data file (Hosts = @( @{ HostName = 'web1'; UserName = 'root' }, ... ))
    and lists the machines that could not be audited, with why.
#>
[CmdletBinding()]
param(
    [System.Management.Automation.Runspaces.PSSession[]] $Session = @(),

    [hashtable[]] $SSHConnection = @(),

    [ValidateSet('Informational', 'Low', 'Medium', 'High', 'Critical')]
    [string] $MinimumSeverity = 'Medium',

    [ValidateRange(1, [int]::MaxValue)]
    [int] $ThrottleLimit = 32
)

# The audit's severities, least first, as LkmPowerShell numbers them. A finding that crossed the
# wire carries its Severity as the name (a deserialised enum shows its name) or, read back from
# some stores, as the number: both are ranked here, so this machine needs no LkmPowerShell of its own.
$severities = 'Informational', 'Low', 'Medium', 'High', 'Critical'
$minimum = $severities.IndexOf($MinimumSeverity)
function Get-SeverityRank($Severity) {
    $text = "$Severity"
    $rank = $severities.IndexOf($text)
    if ($rank -ge 0) { $rank } elseif ($text -match '^\d+$') { [int] $text } else { -1 }
}

function Write-HostError([string] $ComputerName, [string] $ErrorId, [string] $Message, [System.Management.Automation.ErrorCategory] $Category, [string] $Action) {
    # One error for the machine, named after the cause; its summary says the same in Error.
    $record = [System.Management.Automation.ErrorRecord]::new(
        [System.Exception]::new("${ComputerName}: $Message"), $ErrorId, $Category, $ComputerName)
    $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new("${ComputerName}: $Message")
    $record.ErrorDetails.RecommendedAction = $Action
    $PSCmdlet.WriteError($record)
}

function New-HostSummary([string] $ComputerName, [bool] $Reachable, [object[]] $Findings, [string] $Problem) {
    $all = @($Findings)
    $ranks = @($all | ForEach-Object { Get-SeverityRank $_.Severity })
    $highest = if ($ranks.Count) { $severities[($ranks | Measure-Object -Maximum).Maximum] } else { $null }
    $shown = @($all | Where-Object { (Get-SeverityRank $_.Severity) -ge $minimum })
    [pscustomobject]@{
        PSTypeName   = 'LkmPowerShell.FleetAuditHost'
        ComputerName = $ComputerName
        Reachable    = $Reachable
        Highest      = $highest
        FindingCount = $shown.Count
        Findings     = $shown
        Error        = if ($Problem) { $Problem } else { $null }
    }
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
        New-HostSummary $name $false @() $message
    }
}

try {
    $usable = @()
    foreach ($s in $sessions) {
        if ("$($s.State)" -eq 'Opened') { $usable += $s; continue }
        Write-HostError $s.ComputerName 'FleetSessionFailed' "its session is $($s.State)." ConnectionError 'Open a new session to it (New-PSSession) and run the audit again.'
        New-HostSummary $s.ComputerName $false @() "session $($s.State)"
    }
    if (-not $usable) { return }

    $remoteErrors = @()
    $results = @(Invoke-Command -Session $usable -ThrottleLimit $ThrottleLimit -ErrorAction SilentlyContinue -ErrorVariable +remoteErrors -ScriptBlock {
            Import-Module LkmPowerShell -ErrorAction Stop
            Test-KernelModule
        })

    foreach ($s in $usable) {
        # What came back from this machine: remoting stamps each object and error with the
        # session's runspace (RunspaceId, OriginInfo), and its name (PSComputerName).
        $mine = @($results | Where-Object { $_.RunspaceId -eq $s.InstanceId })
        $errors = @($remoteErrors | Where-Object {
                ($_.OriginInfo -and $_.OriginInfo.RunspaceID -eq $s.InstanceId) -or
                (-not $_.OriginInfo -and ($_.TargetObject -eq $s -or "$($_.TargetObject)" -eq $s.ComputerName))
            })
        # The audit's own per-item errors are the machine's news, passed on; anything else ends its audit.
        $auditErrors = @($errors | Where-Object FullyQualifiedErrorId -Like '*,LkmPowerShell.Commands.*')
        $fatal = @($errors | Where-Object FullyQualifiedErrorId -NotLike '*,LkmPowerShell.Commands.*') | Select-Object -First 1
        foreach ($e in $auditErrors) { $PSCmdlet.WriteError($e) }
        if (-not $fatal) {
            New-HostSummary $s.ComputerName $true $mine $null
        }
        elseif ($fatal.FullyQualifiedErrorId -like 'Modules_ModuleNotFound*') {
            Write-HostError $s.ComputerName 'FleetModuleMissing' 'LkmPowerShell is not installed there.' ObjectNotFound `
                "Install it there first: Invoke-Command -Session `$s { Install-PSResource LkmPowerShell } (or from a .nupkg, see docs/fleet.md)."
            New-HostSummary $s.ComputerName $true @() $fatal.Exception.Message
        }
        else {
            $reachable = "$($s.State)" -eq 'Opened'
            Write-HostError $s.ComputerName ($(if ($reachable) { 'FleetHostFailed' } else { 'FleetSessionFailed' })) "the audit did not complete: $($fatal.Exception.Message)" `
                ($(if ($reachable) { 'NotSpecified' } else { 'ConnectionError' })) "Run it there to see the whole error: Invoke-Command -Session `$s { Test-KernelModule }."
            New-HostSummary $s.ComputerName $reachable $mine $fatal.Exception.Message
        }
    }
}
finally {
    # Sessions this script opened are its to close; sessions given stay open for the caller.
    if ($opened) { Remove-PSSession -Session $opened -ErrorAction SilentlyContinue }
}
