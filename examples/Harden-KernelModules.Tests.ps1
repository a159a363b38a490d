# The hardening example tested two ways on the host: with the cmdlets mocked (what a user does for
# their own scripts), and for real against a scratch image (-Root), with kmod's modprobe judging the
# result. tests/KernelBench/guest/Hardening.Tests.ps1 runs it in real kernels.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../LkmPowerShell.psd1') -Force
    $script:harden = Join-Path $PSScriptRoot 'Harden-KernelModules.ps1'
    $script:cis = 'cramfs', 'freevxfs', 'jffs2', 'hfs', 'hfsplus', 'squashfs', 'udf', 'usb-storage', 'dccp', 'sctp', 'rds', 'tipc'
}

Describe 'Harden-KernelModules.ps1, cmdlets mocked' {
    BeforeEach {
        Mock Disable-KernelModule { }
        Mock Remove-KernelModule { }
        Mock Get-KernelModule { [pscustomobject]@{ Name = 'squashfs' }; [pscustomobject]@{ Name = 'ext4' } } # loaded
        Mock Get-KernelModuleConfiguration {
            [pscustomobject]@{ Kind = 'Install'; Module = 'cramfs'; DisablesLoading = $true; Location = '/etc/modprobe.d/x.conf:1' }
            [pscustomobject]@{ Kind = 'Install'; Module = 'cramfs'; DisablesLoading = $false; Location = '/etc/modprobe.d/y.conf:1' }
            [pscustomobject]@{ Kind = 'Blacklist'; Module = 'cramfs'; Location = '/etc/modprobe.d/x.conf:2' }
            [pscustomobject]@{ Kind = 'Install'; Module = 'usb_*'; DisablesLoading = $false; Location = '/etc/modprobe.d/z.conf:4' }
            [pscustomobject]@{ Kind = 'Blacklist'; Module = 'usb_storage'; Location = '/etc/modprobe.d/z.conf:5' }
        }
    }

    It 'disables the whole CIS list in one call and removes only what is loaded' {
        $report = & $harden
        Should -Invoke Disable-KernelModule -Times 1 -Exactly -ParameterFilter { ($Name -join ',') -eq ($cis -join ',') }
        Should -Invoke Remove-KernelModule -Times 1 -Exactly
        Should -Invoke Remove-KernelModule -Times 1 -Exactly -ParameterFilter { $Name -eq 'squashfs' -and $RemoveUnusedDependency }
        $report.Count | Should -Be 12
    }

    It 'reports each module from the configuration entries' {
        $report = & $harden -AuditOnly
        $cramfs = $report | Where-Object Module -EQ 'cramfs'
        $cramfs.Compliant | Should -BeTrue
        $cramfs.DisabledBy | Should -Be '/etc/modprobe.d/x.conf:1'
        $squashfs = $report | Where-Object Module -EQ 'squashfs'
        ($squashfs.Loaded, $squashfs.Disabled, $squashfs.Compliant) | Should -Be @($true, $false, $false)
        $usb = $report | Where-Object Module -EQ 'usb_storage'
        ($usb.Disabled, $usb.Blacklisted, $usb.BlacklistedBy, $usb.Compliant) | Should -Be @($false, $true, '/etc/modprobe.d/z.conf:5', $false)
        Should -Invoke Get-KernelModuleConfiguration -Times 1 -Exactly # one read of the configuration for all twelve
    }

    It '-AuditOnly changes nothing' {
        & $harden -AuditOnly | Out-Null
        Should -Invoke Disable-KernelModule -Times 0
        Should -Invoke Remove-KernelModule -Times 0
    }
}

Describe 'Harden-KernelModules.ps1 on a scratch image, kmod judging' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1') -Force
        # The synthetic tree (it has the CIS list's file systems and protocols, or kmod runs the
        # install command by name alone), indexed by the project's own depmod.
        $script:image = Join-Path $TestDrive 'image'
        $script:synthetic = New-SyntheticModuleTree $image
        New-Item -ItemType Directory (Join-Path $image 'etc/modprobe.d') | Out-Null
        # A site file that already blacklists one module: the report must name it, the script must keep it.
        Set-Content (Join-Path $image 'etc/modprobe.d/site.conf') 'blacklist hfs'
    }

    It 'before: nothing compliant; hfs blacklisted by the site file' {
        $before = & $harden -AuditOnly -Root $image
        $before.Compliant | Should -Not -Contain $true
        ($before | Where-Object Module -EQ 'hfs').BlacklistedBy | Should -BeLike '*site.conf:1'
    }

    It 'after: every module compliant, and kmod''s modprobe runs /bin/false for each' {
        $after = & $harden -Root $image
        $after.Compliant | Should -Not -Contain $false
        $after.Count | Should -Be 12
        foreach ($m in $cis) {
            $dry = modprobe -n -v -C (Join-Path $image 'etc/modprobe.d') -d $image -S $synthetic.Version $m
            @($dry)[-1] | Should -Be 'install /bin/false '
        }
    }

    It 'a second run changes nothing' {
        $file = Join-Path $image 'etc/modprobe.d/00-lkmpowershell-disabled.conf'
        $hash = (Get-FileHash $file).Hash
        $stamp = (Get-Item $file).LastWriteTimeUtc
        $again = & $harden -Root $image
        $again.Compliant | Should -Not -Contain $false
        (Get-FileHash $file).Hash | Should -Be $hash
        (Get-Item $file).LastWriteTimeUtc | Should -Be $stamp
        Get-Content (Join-Path $image 'etc/modprobe.d/site.conf') | Should -Be 'blacklist hfs'
    }
}
