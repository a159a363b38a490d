# Configuration and hardening in real kernels: examples/Harden-KernelModules.ps1 on the running
# system (kmod's modprobe must refuse what it disabled), the effective configuration against the
# guest's own `modprobe -c`, a runtime parameter through /sys, and a boot-time list proven by the
# program that reads it at boot. Reports are saved to $LKMBENCH_RESULTS for the record.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../Pester/TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:harden = Join-Path (Get-RepositoryRoot) 'examples/Harden-KernelModules.ps1'
    $script:results = if ($env:LKMBENCH_RESULTS) { $env:LKMBENCH_RESULTS } else { $TestDrive }
    function Test-Loaded([string] $Name) { [bool](Select-String -Path /proc/modules -Pattern "^$Name " -Quiet) }
    function Save-Report($Report, [string] $Name) {
        $Report | Format-Table Module, Compliant, Disabled, Blacklisted, Loaded, DisabledBy -AutoSize | Out-String -Width 200 |
            Set-Content (Join-Path $results "$Name-$env:LKMBENCH_KERNEL.txt")
    }
}

# The hardening example on the 6.12 kernel only: what it proves is modprobe.d and kmod's refusal,
# the same on both kernels, and the 6.1 guest already carries the work only it can do (depmod over
# its tree, the long load/remove run), so both guests finish at about the same time.
if ($env:LKMBENCH_KERNEL -ne 'plain') {
Describe 'examples/Harden-KernelModules.ps1 in a real kernel' -Tag 'RealKernel' {
    AfterAll {
        Remove-Item /etc/modprobe.d/00-lkmpowershell-disabled.conf -ErrorAction SilentlyContinue
    }

    It 'before: two CIS modules loaded with kmod, nothing compliant' {
        modprobe squashfs; modprobe freevxfs
        Test-Loaded squashfs | Should -BeTrue
        $before = & $harden -AuditOnly
        Save-Report $before hardening-before
        ($before | Where-Object Module -EQ 'squashfs').Loaded | Should -BeTrue
        $before.Compliant | Should -Not -Contain $true
    }

    It 'after: all disabled and blacklisted, the loaded ones removed, and kmod refuses them' {
        $after = & $harden
        Save-Report $after hardening-after
        $after.Compliant | Should -Not -Contain $false
        Test-Loaded squashfs | Should -BeFalse
        Test-Loaded freevxfs | Should -BeFalse
        modprobe -n -v cramfs | Should -Be 'install /bin/false '
        modprobe squashfs 2>$null
        $LASTEXITCODE | Should -Not -Be 0
        Import-KernelModule squashfs -ErrorVariable refused -ErrorAction SilentlyContinue
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'ModuleDisabled,*'
        $refused[0].Exception.Message | Should -BeLike '*00-lkmpowershell-disabled.conf:13*'
        Test-Loaded squashfs | Should -BeFalse
    }

    It 'a second run changes nothing' {
        $hash = (Get-FileHash /etc/modprobe.d/00-lkmpowershell-disabled.conf).Hash
        $again = & $harden
        Save-Report $again hardening-again
        $again.Compliant | Should -Not -Contain $false
        (Get-FileHash /etc/modprobe.d/00-lkmpowershell-disabled.conf).Hash | Should -Be $hash
    }

    It 'Enable-KernelModule gives the module back to kmod; Disable -Unload takes it away again' {
        (Enable-KernelModule squashfs -PassThru).Disabled | Should -BeFalse
        modprobe squashfs
        Test-Loaded squashfs | Should -BeTrue
        $s = Disable-KernelModule squashfs -Unload -PassThru
        ($s.Compliant, $s.Loaded) | Should -Be @($true, $false)
        Test-Loaded squashfs | Should -BeFalse
    }
}
} else { Write-Host 'guest: examples/Harden-KernelModules.ps1 runs on the 6.12 guest only (see Hardening.Tests.ps1)' }

Describe 'The effective configuration in a real system' -Tag 'RealKernel' {
    It 'is what the guest''s own modprobe -c prints, byte for byte' {
        # Files on the guest's tmpfs and cmp: pwsh collecting 40,000 lines of native output, or
        # writing 3 MB to the 9p results share, takes minutes under TCG.
        $ours = Join-Path $TestDrive 'modprobe-c-ours.txt'
        $kmod = Join-Path $TestDrive 'modprobe-c-kmod.txt'
        # As a user writes it: -AsText leaves out modprobe -c's last newline, which Set-Content adds.
        $t1 = Measure-Command { Get-KernelModuleConfiguration -AsText | Set-Content -LiteralPath $ours }
        $t2 = Measure-Command { sh -c "modprobe -c > '$kmod'" }
        Write-Host ("modprobe -c: ours {0:N1} s, kmod {1:N1} s (TCG)" -f $t1.TotalSeconds, $t2.TotalSeconds)
        (Get-Item $kmod).Length | Should -BeGreaterThan 100000 # the indexes were dumped
        cmp $ours $kmod
        $LASTEXITCODE | Should -Be 0
        Remove-Item $ours, $kmod
    }

    It 'shows the helper the kernel runs for its own requests' {
        $k = Get-KernelModuleConfiguration -KernelRequest
        $k.HelperPath | Should -Be (Get-Content /proc/sys/kernel/modprobe)
        $k.LoadingDisabled | Should -BeFalse
    }
}

Describe 'Set-KernelModuleParameter on nf_conntrack' -Tag 'RealKernel' {
    BeforeAll { modprobe nf_conntrack }
    AfterAll { modprobe -r nf_conntrack }

    It 'changes hashsize now, with the old and new values' {
        $old = Get-Content /sys/module/nf_conntrack/parameters/hashsize
        $new = [string]([int]$old * 2)
        $c = Set-KernelModuleParameter nf_conntrack hashsize $new -PassThru
        Set-Content (Join-Path $results "parameter-$env:LKMBENCH_KERNEL.txt") ($c | Format-List | Out-String)
        ($c.OldValue, $c.NewValue, $c.Changed) | Should -Be @($old, $new, $true)
        Get-Content /sys/module/nf_conntrack/parameters/hashsize | Should -Be $new
    }

    It 'refuses a read-only parameter and a value of the wrong type, writing nothing' {
        Set-KernelModuleParameter nf_conntrack expect_hashsize 64 -ErrorVariable e1 -ErrorAction SilentlyContinue
        $e1[0].FullyQualifiedErrorId | Should -BeLike 'ParameterReadOnly,*'
        $acct = Get-Content /sys/module/nf_conntrack/parameters/acct
        Set-KernelModuleParameter nf_conntrack acct maybe -ErrorVariable e2 -ErrorAction SilentlyContinue
        $e2[0].FullyQualifiedErrorId | Should -BeLike 'ParameterValueInvalid,*'
        Get-Content /sys/module/nf_conntrack/parameters/acct | Should -Be $acct
    }
}

Describe 'Boot-time modules, proven by systemd-modules-load' -Tag 'RealKernel' {
    It 'lists what systemd-modules-load then loads' {
        $tool = '/lib/systemd/systemd-modules-load'
        if (-not (Test-Path $tool)) { throw "$tool is missing on the host root; the proof needs it (apt-get install systemd)." }
        Set-Content /etc/modules-load.d/lkm-hardening.conf '# test', 'dummy'
        try {
            $e = Get-KernelModuleBootEntry dummy
            $e.Location | Should -Be '/etc/modules-load.d/lkm-hardening.conf:2'
            $e.Installed | Should -BeTrue
            Test-Loaded dummy | Should -BeFalse
            & $tool 2>&1 | Out-Null
            Test-Loaded dummy | Should -BeTrue
        }
        finally {
            Remove-Item /etc/modules-load.d/lkm-hardening.conf
            rmmod dummy 2>$null
        }
    }
}
