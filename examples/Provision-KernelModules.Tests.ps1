# How a user tests their own provisioning script without touching a kernel: the cmdlets mocked.
# (tests/KernelBench/guest/Examples.Tests.ps1 runs the same script against a real kernel.)
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../LkmPowerShell.psd1') -Force
    $script:provision = Join-Path $PSScriptRoot 'Provision-KernelModules.ps1'
}

Describe 'Provision-KernelModules.ps1, cmdlets mocked' {
    BeforeEach {
        Mock Import-KernelModule { [pscustomobject]@{ Name = $Name; Changed = $Name -ne 'brd' } }
        Mock Remove-KernelModule { [pscustomobject]@{ Name = $Name; State = 'NotLoaded'; Changed = $true } }
    }

    It 'loads and persists each module with its parameters' {
        $report = & $provision -Module dummy, brd -Parameters @{ dummy = @{ numdummies = 2 }; brd = 'rd_nr=1' }
        $report.Module | Should -Be @('dummy', 'brd')
        $report.Changed | Should -Be @($true, $false)
        Should -Invoke Import-KernelModule -Times 1 -Exactly -ParameterFilter { $Name -eq 'dummy' -and $Persist -and $PassThru -and $Parameters.numdummies -eq 2 }
        Should -Invoke Import-KernelModule -Times 1 -Exactly -ParameterFilter { $Name -eq 'brd' -and $Persist -and $Parameters -eq 'rd_nr=1' }
    }

    It 'removes the modules that must be absent, with what only they used' {
        $report = & $provision -Module @() -Absent pcspkr
        ($report.Module, $report.Ensure, $report.Changed) | Should -Be @('pcspkr', 'Absent', $true)
        Should -Invoke Remove-KernelModule -Times 1 -Exactly -ParameterFilter { $Name -eq 'pcspkr' -and $RemoveUnusedDependency -and $Persist -and $PassThru }
        Should -Invoke Import-KernelModule -Times 0
    }

    It 'stops at the first failure' {
        Mock Import-KernelModule { throw 'Loading dummy failed' } -ParameterFilter { $Name -eq 'dummy' }
        { & $provision -Module dummy, brd } | Should -Throw '*Loading dummy failed*'
        Should -Invoke Import-KernelModule -Times 0 -ParameterFilter { $Name -eq 'brd' }
    }
}
