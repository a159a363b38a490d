# examples/Provision-KernelModules.ps1 against a real kernel (the kernel bench): what it promises
# (modules present now and at boot, idempotent, absent ones removed) checked on the system itself.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../Pester/TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:provision = Join-Path (Get-RepositoryRoot) 'examples/Provision-KernelModules.ps1'
    function Test-Loaded([string] $Name) { [bool](Select-String -Path /proc/modules -Pattern "^$Name " -Quiet) }
}

Describe 'examples/Provision-KernelModules.ps1 in a real kernel' -Tag 'RealKernel' {
    AfterAll {
        Remove-KernelModule dummy, brd -Persist -ErrorAction SilentlyContinue
    }

    It 'loads the modules with their parameters and persists them' {
        $report = & $provision -Module dummy, brd -Parameters @{ dummy = @{ numdummies = 2 }; brd = 'rd_nr=1 rd_size=4096' }
        $report.Changed | Should -Be @($true, $true)
        Test-Loaded dummy | Should -BeTrue
        Test-Path /sys/class/net/dummy1 | Should -BeTrue
        (Get-KernelModule brd).Parameters['rd_nr'] | Should -Be '1'
        Get-Content /etc/modules-load.d/brd.conf | Should -Contain 'brd'
        (Get-Content /etc/modprobe.d/brd.conf) -join "`n" | Should -BeLike '*options brd rd_nr=1 rd_size=4096*'
    }

    It 'is idempotent: a second run changes nothing, and reports that' {
        $before = Get-Content /proc/modules | ForEach-Object { ($_ -split ' ')[0..2] -join ' ' }
        $report = & $provision -Module dummy, brd -Parameters @{ dummy = @{ numdummies = 2 }; brd = 'rd_nr=1 rd_size=4096' }
        $report.Changed | Should -Be @($false, $false)
        Get-Content /proc/modules | ForEach-Object { ($_ -split ' ')[0..2] -join ' ' } | Should -Be $before
    }

    It 'removes modules that must be absent, and their boot-time files' {
        (& $provision -Module @() -Absent brd).Changed | Should -BeTrue
        Test-Loaded brd | Should -BeFalse
        Test-Path /etc/modules-load.d/brd.conf | Should -BeFalse
    }
}
