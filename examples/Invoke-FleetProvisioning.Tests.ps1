# Invoke-FleetProvisioning.ps1 tested on one machine, without remoting (as Invoke-FleetAudit.Tests.ps1):
# the mocked Invoke-Command runs the remote block here once a machine, against mocked cmdlets that
# keep each machine's state, so a second run sees what the first one did.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../LkmPowerShell.psd1') -Force
    $script:provision = Join-Path $PSScriptRoot 'Invoke-FleetProvisioning.ps1'

    function New-FakeSession([string] $ComputerName) {
        [pscustomobject]@{ ComputerName = $ComputerName; State = 'Opened'; InstanceId = [guid]::NewGuid() }
    }

    function Invoke-AsRemoting {
        param($Session, [scriptblock] $ScriptBlock, [object[]] $ArgumentList)
        foreach ($s in $Session) {
            $script:onHost = $s.ComputerName
            # Arguments cross the wire serialised, as remoting sends them.
            $arguments = @($ArgumentList | ForEach-Object { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($_, 1)) })
            & $ScriptBlock @arguments | ForEach-Object {
                $o = [psobject] $_
                $o | Add-Member -NotePropertyName PSComputerName -NotePropertyValue $s.ComputerName -Force
                $o | Add-Member -NotePropertyName RunspaceId -NotePropertyValue $s.InstanceId -Force
                $o
            }
        }
    }
}

Describe 'Invoke-FleetProvisioning.ps1, remoting mocked' {
    AfterAll { Remove-Variable -Scope Global -Name FleetTestState -ErrorAction SilentlyContinue }
    BeforeEach {
        # Each machine's kernel and modprobe.d, as the mocked cmdlets change them. Global: a mock's
        # body runs where it is called (inside the script under test), so $script: would be that script's.
        $global:FleetTestState = @{ 'lkmbench-plain' = @{ Loaded = @('cramfs'); Disabled = @() }; 'lkmbench-xz' = @{ Loaded = @(); Disabled = @() } }
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
        Mock Import-KernelModule {
            $machine = $global:FleetTestState[$script:onHost]
            $changed = $Name -notin $machine.Loaded
            $machine.Loaded = @($machine.Loaded) + $Name | Select-Object -Unique
            [pscustomobject]@{ Name = $Name; Changed = $changed }
        }
        Mock Disable-KernelModule {
            $machine = $global:FleetTestState[$script:onHost]
            $changed = $Name -notin $machine.Disabled -or ($Unload -and $Name -in $machine.Loaded)
            $machine.Disabled = @($machine.Disabled) + $Name | Select-Object -Unique
            if ($Unload) { $machine.Loaded = @($machine.Loaded | Where-Object { $_ -ne $Name }) }
            [pscustomobject]@{ Module = $Name; Changed = $changed }
        }
    }

    It 'loads, persists and disables on every machine, one line a machine and module' {
        $report = & $provision -SSHConnection @{ HostName = 'lkmbench-plain' }, @{ HostName = 'lkmbench-xz' } -Module dummy -Parameters @{ dummy = @{ numdummies = 2 } } -Disabled cramfs -ThrottleLimit 2
        $report[0].PSObject.TypeNames[0] | Should -Be 'LkmPowerShell.FleetProvisioning'
        ($report | ForEach-Object { "$($_.ComputerName) $($_.Module) $($_.Ensure) $($_.Changed)" }) | Should -Be @(
            'lkmbench-plain dummy Present True', 'lkmbench-plain cramfs Disabled True', 'lkmbench-xz dummy Present True', 'lkmbench-xz cramfs Disabled True')
        # The nested hashtable arrived whole on the remote side.
        Should -Invoke Import-KernelModule -Times 2 -Exactly -ParameterFilter { $Name -eq 'dummy' -and $Persist -and $PassThru -and $Parameters.numdummies -eq 2 }
        Should -Invoke Disable-KernelModule -Times 2 -Exactly -ParameterFilter { $Name -eq 'cramfs' -and $Unload -and $PassThru }
        Should -Invoke Invoke-Command -Times 1 -Exactly -ParameterFilter { $ThrottleLimit -eq 2 }
        $global:FleetTestState['lkmbench-plain'].Loaded | Should -Be 'dummy'
    }

    It 'changes nothing the second time' {
        $arguments = @{ SSHConnection = @{ HostName = 'lkmbench-plain' }, @{ HostName = 'lkmbench-xz' }; Module = 'dummy'; Disabled = 'cramfs' }
        & $provision @arguments | Out-Null
        $second = & $provision @arguments
        $second.Count | Should -Be 4
        $second.Changed | Should -Be @($false, $false, $false, $false)
    }

    It 'gives one error for a machine it cannot reach, and provisions the others' {
        $out = & $provision -SSHConnection @{ HostName = 'down' }, @{ HostName = 'lkmbench-xz' } -Module dummy -ErrorAction Continue 2>&1
        $errs = @($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'FleetSessionFailed*'
        $errs[0].TargetObject | Should -Be 'down'
        $report = @($out | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
        ($report.ComputerName, $report.Module, $report.Changed) | Should -Be @('lkmbench-xz', 'dummy', $true)
    }

    It 'refuses a call without a machine, and says what to give' {
        $e = { & $provision -Module dummy } | Should -Throw -ErrorId 'FleetNoMachine*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*-Session*-SSHConnection*'
        Should -Invoke Invoke-Command -Times 0 -Exactly
    }
}
