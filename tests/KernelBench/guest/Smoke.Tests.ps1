# Proof of life of the kernel bench: runs inside the guest (Invoke-KernelBench.ps1 boots it),
# with kmod's own tools only. It proves the guest is a real kernel that loads modules, that
# /lib/modules/$(uname -r) is that kernel's tree, and that the unprivileged user exists.

BeforeDiscovery {
    $script:IsXz = $env:LKMBENCH_KERNEL -eq 'xz'
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'LkmBench.Guest.psm1') -Force
    function Get-ProcModule([string] $Name) {
        foreach ($line in Get-Content /proc/modules) {
            $f = $line -split ' '
            if ($f[0] -eq $Name) {
                return [pscustomobject]@{ Name = $f[0]; Size = [long]$f[1]; RefCount = [int]$f[2]
                    UsedBy = @($f[3].Split(',', [StringSplitOptions]::RemoveEmptyEntries) | Where-Object { $_ -ne '-' }); State = $f[4] }
            }
        }
    }
}

Describe 'Kernel bench guest' -Tag 'Bench' {
    It 'runs inside the bench guest as root' {
        Test-LkmBenchGuest | Should -BeTrue
        (id -u) | Should -Be '0'
    }

    It 'has /proc/modules (a kernel with loadable modules)' {
        Test-Path /proc/modules | Should -BeTrue
    }

    It 'booted the kernel the host asked for' {
        (uname -r) | Should -Be $env:LKMBENCH_KVER
    }

    It 'has the running kernel''s module tree and kmod index at /lib/modules/$(uname -r)' {
        $dir = "/lib/modules/$(uname -r)"
        Test-Path "$dir/modules.dep.bin" | Should -BeTrue
        Test-Path "$dir/kernel/fs/fat" | Should -BeTrue
    }

    It 'runs in the repository root' {
        (Get-Location).Path | Should -Be $env:LKMBENCH_REPO
        Test-Path (Join-Path $env:LKMBENCH_REPO 'tests/KernelBench/Invoke-KernelBench.ps1') | Should -BeTrue
    }
}

Describe 'kmod inside the guest' -Tag 'Bench' {
    It 'modprobe msdos loads fat, then msdos, and fat is used by msdos' {
        $out = @(modprobe -v msdos 2>&1 | ForEach-Object { "$_" })
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $insmods = @($out | Where-Object { $_ -match '^insmod ' })
        $insmods.Count | Should -Be 2 -Because ($out -join "`n")
        $insmods[0] | Should -Match '/fat\.ko'
        $insmods[1] | Should -Match '/msdos\.ko'
        $fat = Get-ProcModule fat
        $fat | Should -Not -BeNullOrEmpty
        $fat.UsedBy | Should -Contain 'msdos'
        $fat.RefCount | Should -Be 1
        (Get-ProcModule msdos).State | Should -Be 'Live'
    }

    It 'modprobe dummy numdummies=3 creates dummy0..2' {
        modprobe dummy numdummies=3
        $LASTEXITCODE | Should -Be 0
        foreach ($i in 0..2) { Test-Path "/sys/class/net/dummy$i" | Should -BeTrue }
        Test-Path /sys/class/net/dummy3 | Should -BeFalse
        (Get-ProcModule dummy).State | Should -Be 'Live'
        # dummy declares module_param(numdummies, int, 0): permission 0, so the kernel does not
        # publish it under /sys/module/dummy/parameters. Parameter values are read with brd below.
        Test-Path /sys/module/dummy/parameters/numdummies | Should -BeFalse
    }

    It 'modprobe brd rd_nr=2 rd_size=1024 publishes its parameters under /sys/module' {
        modprobe brd rd_nr=2 rd_size=1024
        $LASTEXITCODE | Should -Be 0
        (Get-Content /sys/module/brd/parameters/rd_nr).Trim() | Should -Be '2'
        (Get-Content /sys/module/brd/parameters/rd_size).Trim() | Should -Be '1024'
        Test-Path /sys/block/ram0, /sys/block/ram1 | Should -Be @($true, $true)
        Test-Path /sys/block/ram2 | Should -BeFalse
    }

    # One test for both kernels rather than two skipped halves: a skip is never silent here.
    It 'reports in-kernel decompression as each kernel has it (xz on 6.12, none on 6.1)' {
        if ($IsXz) { (Get-Content /sys/module/compression).Trim() | Should -Be 'xz' }
        else { Test-Path /sys/module/compression | Should -BeFalse }
    }

    It 'modprobe -r msdos removes msdos and its unused dependency fat' {
        modprobe -r msdos
        $LASTEXITCODE | Should -Be 0
        Get-ProcModule msdos | Should -BeNullOrEmpty
        Get-ProcModule fat | Should -BeNullOrEmpty
    }
}

Describe 'The unprivileged user' -Tag 'Bench' {
    It 'exists and runs commands with its own uid' {
        $r = Invoke-LkmBenchUnprivileged 'id -u; id -un; echo $HOME'
        $r.ExitCode | Should -Be 0
        $r.Output | Should -Be @($env:LKMBENCH_UID, $env:LKMBENCH_USER, "/home/$env:LKMBENCH_USER")
    }

    It 'cannot load a module (Operation not permitted)' {
        $r = Invoke-LkmBenchUnprivileged 'insmod "/lib/modules/$(uname -r)/kernel/drivers/net/dummy.ko"* 2>&1'
        $r.ExitCode | Should -Not -Be 0
        ($r.Output -join "`n") | Should -Match 'Operation not permitted'
    }

    It 'can reach pwsh and the repository' {
        $r = Invoke-LkmBenchUnprivileged "test -r '$env:LKMBENCH_PWSH' && test -x '$env:DOTNET_ROOT/dotnet' && test -r '$env:LKMBENCH_REPO/tests/KernelBench/guest/Smoke.Tests.ps1' && echo ok"
        $r.Output | Should -Be 'ok'
    }
}
