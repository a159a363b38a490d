# The fleet scripts tested on one machine, without remoting: New-PSSession, Invoke-Command and
# Remove-PSSession are mocked, and the mocked Invoke-Command runs the script's remote block here,
# once a machine, against mocked LkmPowerShell cmdlets, stamping what comes back as remoting does
# (PSComputerName, RunspaceId). tests/KernelBench/fleet runs the same scripts against real guests.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../LkmPowerShell.psd1') -Force
    $script:audit = Join-Path $PSScriptRoot 'Invoke-FleetAudit.ps1'

    function New-FakeSession([string] $ComputerName) {
        [pscustomobject]@{ ComputerName = $ComputerName; State = 'Opened'; InstanceId = [guid]::NewGuid() }
    }

    function Invoke-AsRemoting {
        # What Invoke-Command -Session does, machine by machine: runs the block there (here, with
        # $script:onHost naming the machine for the mocks) and stamps each object with its origin.
        param($Session, [scriptblock] $ScriptBlock, [object[]] $ArgumentList)
        foreach ($s in $Session) {
            $script:onHost = $s.ComputerName
            & $ScriptBlock @ArgumentList | ForEach-Object {
                $o = [psobject] $_
                $o | Add-Member -NotePropertyName PSComputerName -NotePropertyValue $s.ComputerName -Force
                $o | Add-Member -NotePropertyName RunspaceId -NotePropertyValue $s.InstanceId -Force
                $o | Add-Member -NotePropertyName PSShowComputerName -NotePropertyValue $true -Force
                $o
            }
        }
    }

    function New-Finding([LkmPowerShell.Engine.Audit.AuditSeverity] $Severity, [string] $Check, [string] $Subject) {
        # As a finding arrives over the wire from a real guest (tests/KernelBench/fleet): its
        # Severity shows the enum's name, the rest is text.
        [pscustomobject]@{ PSTypeName = 'Deserialized.LkmPowerShell.Engine.Audit.AuditFinding'; Severity = "$Severity"; Check = $Check; Subject = $Subject; Message = "$Check $Subject" }
    }
}

Describe 'Invoke-FleetAudit.ps1, remoting mocked' {
    BeforeEach {
        # New-PSSession as it behaves with several connections: a session for each machine that
        # answers, and an error for each that does not ("[host] ..." in its details).
        Mock New-PSSession {
            foreach ($c in $SSHConnection) {
                if ($c.HostName -ne 'down') { New-FakeSession $c.HostName; continue }
                $record = [System.Management.Automation.ErrorRecord]::new([System.Management.Automation.Remoting.PSRemotingTransportException]::new('ssh: connect to host down port 22: Connection refused'),
                    'PSSessionOpenFailed', 'OpenError', $null)
                $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new('[down] ssh: connect to host down port 22: Connection refused')
                $PSCmdlet.WriteError($record)
            }
        }
        Mock Remove-PSSession { } -RemoveParameterType Session
        Mock Invoke-Command { Invoke-AsRemoting $Session $ScriptBlock $ArgumentList } -RemoveParameterType Session
        Mock Import-Module { } -ParameterFilter { $Name -eq 'LkmPowerShell' }
        Mock Test-KernelModule {
            New-Finding Informational ModuleSigned fat
            if ($script:onHost -eq 'lkmbench-xz') {
                New-Finding Medium UnsignedModule lkmaudit_hide
                New-Finding Critical HiddenFromModuleList lkmaudit_hide
            }
        }
    }

    It 'writes one summary a machine, with its highest severity and the findings at or above -MinimumSeverity' {
        $report = & $audit -SSHConnection @{ HostName = 'lkmbench-plain' }, @{ HostName = 'lkmbench-xz' }
        $report.Count | Should -Be 2
        $report[0].PSObject.TypeNames[0] | Should -Be 'LkmPowerShell.FleetAuditHost'
        $plain, $xz = $report
        ($plain.ComputerName, $plain.Reachable, $plain.Highest, $plain.FindingCount, $plain.Error) | Should -Be @('lkmbench-plain', $true, 'Informational', 0, $null)
        ($xz.ComputerName, $xz.Reachable, $xz.Highest, $xz.FindingCount) | Should -Be @('lkmbench-xz', $true, 'Critical', 2)
        $xz.Findings.PSComputerName | Should -Be @('lkmbench-xz', 'lkmbench-xz')
        Should -Invoke Invoke-Command -Times 1 -Exactly -ParameterFilter { $ThrottleLimit -eq 32 -and $Session.Count -eq 2 }
        Should -Invoke Remove-PSSession -Times 1 -Exactly
    }

    It 'names the machine with the hidden module' {
        $report = & $audit -SSHConnection @{ HostName = 'lkmbench-plain' }, @{ HostName = 'lkmbench-xz' } -MinimumSeverity Critical -ThrottleLimit 1
        ($report | Where-Object Highest -EQ 'Critical').ComputerName | Should -Be 'lkmbench-xz'
        ($report | Where-Object ComputerName -EQ 'lkmbench-xz').Findings.Subject | Should -Be 'lkmaudit_hide'
        Should -Invoke Invoke-Command -Times 1 -Exactly -ParameterFilter { $ThrottleLimit -eq 1 }
    }

    It 'gives one error for a machine it cannot reach, and audits the others' {
        # The error stream as a caller sees it (-ErrorVariable would also collect what the script handled inside).
        $out = & $audit -SSHConnection @{ HostName = 'lkmbench-plain' }, @{ HostName = 'down' }, @{ HostName = 'lkmbench-xz' } -ErrorAction Continue 2>&1
        $errs = @($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $report = @($out | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'FleetSessionFailed*'
        $errs[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $errs[0].TargetObject | Should -Be 'down'
        $errs[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        $report.ComputerName | Should -Be @('down', 'lkmbench-plain', 'lkmbench-xz')
        ($report | Where-Object ComputerName -EQ 'down').Reachable | Should -BeFalse
        ($report | Where-Object ComputerName -EQ 'down').Error | Should -BeLike '*Connection refused*'
        ($report | Where-Object Reachable).Highest | Should -Be @('Informational', 'Critical')
    }

    It 'reports a machine without LkmPowerShell by that cause, and audits the others' {
        Mock Invoke-Command {
            Invoke-AsRemoting ($Session | Where-Object ComputerName -NE 'bare') $ScriptBlock $ArgumentList
            $bare = $Session | Where-Object ComputerName -EQ 'bare'
            # What remoting gives for the remote Import-Module's failure: an error stamped with its origin.
            $record = [System.Management.Automation.ErrorRecord]::new([System.IO.FileNotFoundException]::new("The specified module 'LkmPowerShell' was not loaded."),
                'Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand', 'ResourceUnavailable', 'LkmPowerShell')
            $origin = [System.Management.Automation.Remoting.OriginInfo]::new('bare', $bare.InstanceId)
            $PSCmdlet.WriteError([System.Management.Automation.Runspaces.RemotingErrorRecord]::new($record, $origin))
        } -RemoveParameterType Session
        $out = & $audit -SSHConnection @{ HostName = 'bare' }, @{ HostName = 'lkmbench-xz' } -ErrorAction Continue 2>&1
        $errs = @($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $report = @($out | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
        $errs.FullyQualifiedErrorId | Should -BeLike 'FleetModuleMissing*'
        $errs.TargetObject | Should -Be 'bare'
        ($report | Where-Object ComputerName -EQ 'bare').Error | Should -BeLike "*'LkmPowerShell'*"
        ($report | Where-Object ComputerName -EQ 'lkmbench-xz').Highest | Should -Be 'Critical'
    }

    It 'refuses a call without a machine, and says what to give' {
        $e = { & $audit } | Should -Throw -ErrorId 'FleetNoMachine*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*-Session*-SSHConnection*'
        Should -Invoke Invoke-Command -Times 0 -Exactly
    }
}
