# lkmbench: run last
# The kernel as the judge of the signature check (Get-KernelModule -CheckSignature): with
# module.sig_enforce on, the kernel loads the shipped modules the check calls Valid and refuses,
# with EKEYREJECTED ("Key was rejected by service"), a copy of dummy with one byte changed, one
# with its signature stripped, and one re-signed by a key the bench made on the host (openssl,
# then Debian's scripts/sign-file; tests/KernelBench/TestModules.ps1 New-BenchSignatureCases). The
# check's verdicts must agree with the kernel on every case. The copies come in as LKMBENCH_SIGCASES.
# sig_enforce is switched on here, at run time: the kernel lets root turn it on, never off
# (module.sig_enforce is a bool_enable_only parameter), so this suite runs last in its boot (the
# line above; the suites that load unsigned test modules come before it) and needs no boot of its own.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../Pester/TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:cases = $env:LKMBENCH_SIGCASES
    $script:report = Join-Path $env:LKMBENCH_RESULTS "signature-$env:LKMBENCH_KERNEL.txt"
    $script:judged = [Collections.Generic.List[object]]::new()
    function Write-Report([string] $Title, $Value) {
        $text = "=== $Title`n" + ($Value | Out-String -Width 250)
        Add-Content -LiteralPath $script:report -Value $text
        Write-Host $text
    }
    function Get-KernelLogLine { @(dmesg 2>$null) }
    # Loads one file with kmod's insmod and records what the kernel said next to what the check said.
    function Invoke-Judge([string] $Case, [string] $File, [string] $Verdict) {
        $before = (Get-KernelLogLine).Count
        $out = insmod $File 2>&1
        $code = $LASTEXITCODE
        $log = @(Get-KernelLogLine | Select-Object -Skip $before)
        $row = [pscustomobject]@{
            Case = $Case; Check = $Verdict; KernelLoaded = ($code -eq 0)
            Kernel = if ($code -eq 0) { 'loaded' } else { "$out".Trim() }
            KernelLog = ($log -join ' | ')
        }
        $script:judged.Add($row)
        Write-Report "insmod $File (check: $Verdict)" $row
        $row
    }
}

Describe 'The kernel as the judge of module signatures' -Tag 'RealKernel' {
    BeforeAll {
        if (-not (Test-Path /proc/modules)) { throw 'This suite needs a kernel with module support: run it through tests/KernelBench.' }
        $parameter = '/sys/module/module/parameters/sig_enforce'
        $before = (Get-Content -Raw $parameter).Trim()
        if ($before -ne 'Y') { Set-Content -LiteralPath $parameter -Value '1' }
        $enforce = (Get-Content -Raw $parameter).Trim()
        Write-Report 'sig_enforce' "${parameter}: $before before this suite, $enforce now"
        if ($enforce -ne 'Y') { throw "sig_enforce could not be switched on ($parameter reads '$enforce')." }
        # The shipped modules are judged by loading them: earlier suites may have left them loaded.
        foreach ($m in 'msdos', 'vfat', 'fat', 'nls_cp437', 'dummy') {
            if ((Get-Content -Raw /proc/modules) -match "(?m)^$m ") { rmmod $m 2>&1 | Out-Null }
        }
        $left = @('msdos', 'fat', 'nls_cp437', 'dummy' | Where-Object { (Get-Content -Raw /proc/modules) -match "(?m)^$_ " })
        if ($left) { throw "Could not unload $($left -join ', ') before judging (in use?): the kernel must load them here to judge." }
        if (-not $script:cases -or -not (Test-Path -LiteralPath (Join-Path $script:cases 'dummy-foreign.ko'))) {
            throw "The signature cases were not made for $(uname -r) (LKMBENCH_SIGCASES='$($script:cases)'): the bench makes them on the host with openssl and linux-headers-$(uname -r)'s sign-file; see the bench's warnings."
        }
        # The check reads the certificates built into /boot/vmlinuz-<release>, as on an installed
        # system. The guest's root is the build machine's, which may lack this kernel's image: put
        # the fixture's there (the overlay's writes vanish at power-off).
        $release = uname -r
        if (-not (Test-Path -LiteralPath "/boot/vmlinuz-$release")) {
            Copy-Item -LiteralPath (Get-Content -Raw (Join-Path $script:cases 'kernel-image.txt')).Trim() -Destination "/boot/vmlinuz-$release"
        }
        $script:dummy = Get-KernelModule -ListAvailable -Name dummy
    }

    It 'refuses a copy of dummy with <Case> (EKEYREJECTED), which the check calls <Expected>' -ForEach @(
        @{ Case = 'one byte changed'; File = 'dummy-patched.ko'; Expected = 'Invalid'; Log = $null }
        @{ Case = 'the signature stripped'; File = 'dummy-stripped.ko'; Expected = 'Unsigned'; Log = 'Loading of unsigned module is rejected' }
        @{ Case = 'a foreign key''s signature'; File = 'dummy-foreign.ko'; Expected = 'UnknownKey'; Log = 'Loading of module with unavailable key is rejected' }
    ) {
        $path = Join-Path $script:cases $File
        $check = Get-KernelModule -LiteralPath $path -CheckSignature
        Write-Report "Get-KernelModule -LiteralPath $path -CheckSignature" ($check | Format-List Name, Path, Signer, SignatureStatus, SignatureStatusReason)
        $check.SignatureStatus | Should -Be $Expected -Because $check.SignatureStatusReason

        $row = Invoke-Judge -Case $Case -File $path -Verdict $check.SignatureStatus
        $row.KernelLoaded | Should -BeFalse
        $row.Kernel | Should -Match 'Key was rejected by service'
        if ($Log) { $row.KernelLog | Should -Match ([regex]::Escape($Log)) }
        (Get-Content -Raw /proc/modules) | Should -Not -Match '(?m)^dummy '
    }

    It 'calls the foreign copy Valid only when given the foreign certificate, which the kernel does not have' {
        $path = Join-Path $script:cases 'dummy-foreign.ko'
        $check = Get-KernelModule -LiteralPath $path -Certificate (Join-Path $script:cases 'foreign-cert.pem')
        $check.SignatureStatus | Should -Be 'Valid' -Because $check.SignatureStatusReason
        $check.SignatureCertificate | Should -Match 'LkmPowerShell bench foreign key'
    }

    It 'loads the shipped modules the check calls Valid: <Name>' -ForEach @(
        @{ Name = 'fat' }, @{ Name = 'msdos' }, @{ Name = 'nls_cp437' }, @{ Name = 'dummy' }
    ) {
        $check = Get-KernelModule -ListAvailable -Name $Name -CheckSignature
        Write-Report "Get-KernelModule -ListAvailable -Name $Name -CheckSignature" ($check | Format-List Name, Path, Signer, SignatureStatus, SignatureCertificate)
        $check.SignatureStatus | Should -Be 'Valid' -Because $check.SignatureStatusReason
        if ((Get-Content -Raw /proc/modules) -notmatch "(?m)^$Name ") {
            $row = Invoke-Judge -Case "shipped $Name" -File $check.Path -Verdict $check.SignatureStatus
            $row.KernelLoaded | Should -BeTrue -Because $row.Kernel
        }
        (Get-Content -Raw /proc/modules) | Should -Match "(?m)^$Name "
        # Loaded as verified: no E (unsigned) taint on the module.
        (Get-Content -Raw "/sys/module/$Name/taint").Trim() | Should -Not -Match 'E'
    }

    It 'agrees with the kernel on every case: Valid exactly where the kernel loaded the module' {
        Write-Report 'check against kernel' ($script:judged | Format-Table Case, Check, KernelLoaded, Kernel -AutoSize)
        $script:judged.Count | Should -BeGreaterOrEqual 6
        foreach ($r in $script:judged) { ($r.Check -eq 'Valid') | Should -Be $r.KernelLoaded -Because "$($r.Case): check $($r.Check), kernel $($r.Kernel)" }
    }
}
