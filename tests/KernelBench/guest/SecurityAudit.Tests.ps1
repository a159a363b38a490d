# lkmbench: run last
# Test-KernelModule inside a real Debian kernel (the kernel bench). This suite loads modules that
# hide themselves: they cannot be unloaded and taint the kernel until reboot, so the bench runs it
# after every other suite of the same boot (the marker line above; see Invoke-GuestPester.ps1).
# The test modules (tests/KernelBench/testmodules) are built on the host with Debian's
# linux-headers for this kernel and passed in as LKMBENCH_TESTMODULES.
# Order matters and is the story: a clean kernel first; then the module that hides completely
# (list and sysfs), while it is still the first out-of-tree module of the boot (the kernel logs
# the out-of-tree and unsigned messages only for the first one); then an ordinary unsigned
# module; then the module that unlinks itself from the list but keeps its sysfs entry.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../Pester/TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:km = $env:LKMBENCH_TESTMODULES
    $script:report = Join-Path $env:LKMBENCH_RESULTS "audit-$env:LKMBENCH_KERNEL.txt"
    function Write-Report([string] $Title, $Value) {
        $FormatEnumerationLimit = -1   # every evidence line, not the first four
        $text = "=== $Title`n" + ($Value | Out-String -Width 250)
        Add-Content -LiteralPath $script:report -Value $text
        Write-Host $text
    }
    function Invoke-Insmod([string] $Name) {
        $out = insmod (Join-Path $script:km "$Name.ko") 2>&1
        if ($LASTEXITCODE -ne 0) { throw "insmod $Name.ko failed ($LASTEXITCODE): $out" }
    }
}

Describe 'Test-KernelModule in a real kernel' -Tag 'RealKernel' {
    BeforeAll {
        if (-not (Test-Path /proc/modules)) { throw 'The audit suite needs a kernel with module support: run it through tests/KernelBench.' }
        if (-not $script:km -or -not (Test-Path -LiteralPath (Join-Path $script:km 'lkmaudit_plain.ko'))) {
            throw "The audit's test modules were not built for $(uname -r) (LKMBENCH_TESTMODULES='$($script:km)'): the bench builds them with Debian's linux-headers-$(uname -r); see the bench's warnings."
        }
    }

    It 'finds nothing above Informational in the clean guest' {
        # Each audit reads every view of the kernel (about half a minute under emulation): one
        # audit and one summary per step, and -Quiet where the verdict changes (after the ghost).
        $all = Test-KernelModule
        $summary = Test-KernelModule -Summary
        Write-Report "clean guest: Test-KernelModule | Where-Object Severity -gt Informational" ($all | Where-Object Severity -gt Informational | Format-List)
        Write-Report 'clean guest: Test-KernelModule -Summary' ($summary | Format-List KernelRelease, Taint, ModulesAudited, HiddenModules, HighestSeverity, IsClean)
        $all | Where-Object Severity -gt Informational | Should -BeNullOrEmpty -Because ($all | Where-Object Severity -gt Informational | Out-String)
        $summary.IsClean | Should -BeTrue
        # As root every view was read (kernel log, kallsyms), except module memory: this guest's
        # /proc/vmallocinfo shows no real addresses, and the audit says so instead of comparing.
        $coverage = @($all | Where-Object Check -EQ Coverage)
        $coverage | Where-Object Message -NotMatch '^The module memory cross-view did not run: /proc/vmallocinfo shows no real addresses' |
            Should -BeNullOrEmpty -Because ($coverage | Out-String)
        # The per-module checks did run: every listed module was audited, Debian's signed ones with their signer.
        $summary.ModulesAudited | Should -Be @((Get-Content /proc/modules) | ForEach-Object { ($_ -split ' ')[0] })
        $all | Where-Object Check -EQ Module | Where-Object Message -Match 'signed by' | Should -Not -BeNullOrEmpty
    }

    It 'reports a module that unlinked itself and deleted its sysfs entry, from the taint and the kernel log' {
        Invoke-Insmod lkmaudit_ghost
        (lsmod | Out-String) | Should -Not -Match 'lkmaudit_ghost'
        Get-Content -Raw /proc/modules | Should -Not -Match 'lkmaudit_ghost'
        Test-Path /sys/module/lkmaudit_ghost | Should -BeFalse

        $findings = Test-KernelModule
        Write-Report 'after insmod lkmaudit_ghost: lsmod' (lsmod)
        Write-Report 'after insmod lkmaudit_ghost: Test-KernelModule | Where-Object Severity -gt Informational' ($findings | Where-Object Severity -gt Informational | Format-List)
        $log = @($findings | Where-Object { $_.Check -eq 'KernelLog' -and $_.Subject -eq 'lkmaudit_ghost' })
        $log | Should -HaveCount 1
        $log[0].Severity | Should -Be 'High'
        $log[0].Evidence -join "`n" | Should -Match 'lkmaudit_ghost: loading out-of-tree module taints kernel'
        $log[0].Techniques | Should -Contain 'T1014'
        $taint = @($findings | Where-Object Check -EQ UnexplainedTaint)
        $taint | Should -HaveCount 1
        $taint[0].Message | Should -Match 'OE'
        (Test-KernelModule -Summary).HiddenModules | Should -Contain 'lkmaudit_ghost'
        Test-KernelModule -Quiet | Should -BeFalse
    }

    It 'reports an ordinary out-of-tree module by name: unsigned, out-of-tree, taints O and E, not installed' {
        Invoke-Insmod lkmaudit_plain
        (lsmod | Out-String) | Should -Match 'lkmaudit_plain'
        $findings = Test-KernelModule -Name lkmaudit_plain
        Write-Report 'after insmod lkmaudit_plain: Test-KernelModule -Name lkmaudit_plain' ($findings | Format-List)
        $findings.Subject | Sort-Object -Unique | Should -Be 'lkmaudit_plain'
        $taint = $findings | Where-Object Check -EQ ModuleTaint
        $taint.Message | Should -Match 'O \(externally-built'
        $taint.Message | Should -Match 'E \(unsigned module'
        ($findings | Where-Object Check -EQ ModuleSignature).Severity | Should -Be 'Medium'
        ($findings | Where-Object Check -EQ ModuleFile).Message | Should -Match 'No file named lkmaudit_plain is installed'
        # Now the kernel's OE is explained by a listed module.
        Test-KernelModule | Where-Object Check -EQ UnexplainedTaint | Should -BeNullOrEmpty
    }

    It 'reports a module that unlinked itself from the module list although lsmod and /proc/modules do not show it' {
        Invoke-Insmod lkmaudit_hide
        $lsmod = lsmod
        ($lsmod | Out-String) | Should -Not -Match 'lkmaudit_hide'
        Get-Content -Raw /proc/modules | Should -Not -Match 'lkmaudit_hide'
        Get-Content /sys/module/lkmaudit_hide/initstate | Should -Be 'live'

        $findings = Test-KernelModule
        Write-Report "kmod's lsmod with lkmaudit_hide loaded" $lsmod
        Write-Report 'Test-KernelModule | Where-Object Severity -gt Informational (all three loaded)' ($findings | Where-Object Severity -gt Informational | Format-Table Severity, Check, Subject, Message -Wrap)
        $hidden = @($findings | Where-Object Check -EQ HiddenFromModuleList)
        Write-Report 'the hidden module finding' ($hidden | Format-List)
        $hidden | Should -HaveCount 1
        $hidden[0].Subject | Should -Be 'lkmaudit_hide'
        $hidden[0].Severity | Should -Be 'Critical'
        $hidden[0].Evidence -join "`n" | Should -Match 'initstate: live'
        $hidden[0].Evidence -join "`n" | Should -Match 'taint: OE'
        $hidden[0].Evidence -join "`n" | Should -Match 'no symbol owned by \[lkmaudit_hide\]'
        $hidden[0].Techniques | Should -Be @('T1547.006', 'T1014')
        # The per-module checks see it too, by name.
        (Test-KernelModule -Name lkmaudit_hide | Where-Object Check -EQ ModuleTaint).Message | Should -Match 'lkmaudit_hide taints the kernel'
        $summary = Test-KernelModule -Summary
        Write-Report 'Test-KernelModule -Summary (all three loaded)' ($summary | Format-List KernelRelease, Taint, HiddenModules, HighestSeverity, IsClean)
        $summary.HiddenModules | Should -Be @('lkmaudit_ghost', 'lkmaudit_hide')
        $summary.HighestSeverity | Should -Be 'Critical'
    }
}
