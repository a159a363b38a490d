# lkmbench: boot sysctl.kernel.kptr_restrict=1
# The module-memory view in a real kernel, on a boot of its own (the line above: the bench boots
# this file alone, with kernel.kptr_restrict=1 from the command line, so root sees real addresses
# in /proc/vmallocinfo and the view runs). First a clean boot must stay clean: every module-area
# allocation is a listed module's or BPF's. Then an ordinary out-of-tree module (lkmaudit_plain)
# takes the O and E taint and the kernel's once-per-boot log lines, and lkmaudit_ghost, loaded
# after it, unlinks itself and deletes its sysfs entry: the taint and log views cannot see it, and
# the memory it got (partly the memory plain's freed .init sections had, whose stale addresses
# /sys/module/lkmaudit_plain/sections still shows) must still be reported.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../Pester/TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:km = $env:LKMBENCH_TESTMODULES
    $script:report = Join-Path $env:LKMBENCH_RESULTS "ghost-after-plain-$env:LKMBENCH_KERNEL.txt"
    function Write-Report([string] $Title, $Value) {
        $FormatEnumerationLimit = -1
        $text = "=== $Title`n" + ($Value | Out-String -Width 250)
        Add-Content -LiteralPath $script:report -Value $text
        Write-Host $text
    }
    function Invoke-Insmod([string] $Name) {
        $out = insmod (Join-Path $script:km "$Name.ko") 2>&1
        if ($LASTEXITCODE -ne 0) { throw "insmod $Name.ko failed ($LASTEXITCODE): $out" }
    }
}

Describe 'The module-memory view after another tainting module' -Tag 'RealKernel' {
    BeforeAll {
        if (-not (Test-Path /proc/modules)) { throw 'This suite needs a kernel with module support: run it through tests/KernelBench.' }
        $restrict = (Get-Content -Raw /proc/sys/kernel/kptr_restrict).Trim()
        if ($restrict -ne '1') { throw "This suite needs kernel.kptr_restrict=1 from boot (it is $restrict; /proc/cmdline: $(Get-Content -Raw /proc/cmdline)). Run it through the bench, which reads the '# lkmbench: boot' line at its top." }
        if (-not $script:km -or -not (Test-Path -LiteralPath (Join-Path $script:km 'lkmaudit_ghost.ko'))) {
            throw "The audit's test modules were not built for $(uname -r) (LKMBENCH_TESTMODULES='$($script:km)'): see the bench's warnings."
        }
    }

    It 'finds a clean boot clean, with every module-area allocation a listed module''s or BPF''s' {
        $all = Test-KernelModule
        Write-Report 'clean boot, kptr_restrict=1: Test-KernelModule | Where-Object Check -in ModuleMemory, Coverage' ($all | Where-Object Check -In 'ModuleMemory', 'Coverage' | Format-List)
        Write-Report 'clean boot: /proc/vmallocinfo module-area callers' (Get-Content /proc/vmallocinfo | Where-Object { $_ -match '^0xffffffff(a|b|c|d|e)' } | ForEach-Object { ($_ -split '\s+')[2] -replace '\+.*$' } | Group-Object | Select-Object Count, Name)
        $all | Where-Object Severity -gt Informational | Should -BeNullOrEmpty -Because ($all | Where-Object Severity -gt Informational | Out-String)
        # The view ran (real addresses), and found nothing but BPF's memory unexplained.
        $all | Where-Object { $_.Check -eq 'Coverage' -and $_.Message -match 'module memory' } | Should -BeNullOrEmpty
        $all | Where-Object { $_.Check -eq 'ModuleMemory' -and $_.Message -notmatch "is BPF's|are BPF's" } | Should -BeNullOrEmpty -Because ($all | Where-Object Check -EQ ModuleMemory | Format-List | Out-String)
    }

    It 'reports the ghost''s memory when an ordinary out-of-tree module was loaded before it' {
        Invoke-Insmod lkmaudit_plain
        Invoke-Insmod lkmaudit_ghost
        (lsmod | Out-String) | Should -Not -Match 'lkmaudit_ghost'
        Test-Path /sys/module/lkmaudit_ghost | Should -BeFalse
        Write-Report 'lkmaudit_plain sections (the .init ones are stale once it is live)' (Get-ChildItem -Force /sys/module/lkmaudit_plain/sections | ForEach-Object { "$($_.Name) $(Get-Content -Raw $_.FullName)".Trim() })
        Write-Report 'kernel log: taint lines' (dmesg | Select-String 'taint')

        $findings = Test-KernelModule
        Write-Report 'plain then ghost: Test-KernelModule | Where-Object Check -in ModuleMemory, KernelLog, UnexplainedTaint, HiddenFromModuleList' ($findings | Where-Object Check -In 'ModuleMemory', 'KernelLog', 'UnexplainedTaint', 'HiddenFromModuleList' | Format-List)
        # The taint and the log name only plain, which is listed: they cannot see the ghost.
        $findings | Where-Object { $_.Subject -eq 'lkmaudit_ghost' } | Should -BeNullOrEmpty
        $memory = @($findings | Where-Object { $_.Check -eq 'ModuleMemory' -and $_.Message -match 'code that no list shows' })
        $memory | Should -HaveCount 1
        $memory[0].Severity | Should -Be 'Medium'
        $memory[0].Techniques | Should -Contain 'T1014'
        Test-KernelModule -Quiet | Should -BeFalse
    }
}
