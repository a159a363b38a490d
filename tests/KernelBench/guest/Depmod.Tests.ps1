# Update-ModuleDependency inside a real kernel (the kernel bench): the index it writes is what
# kmod's own modprobe uses to load modules. /lib/modules/$(uname -r) is writable in the guest
# (a tmpfs layer over the fixture tree), so the index can be deleted and rebuilt for real.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../Pester/TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    function Test-Loaded([string] $Name) { [bool](Select-String -Path /proc/modules -Pattern "^$Name " -Quiet) }
}

# On the plain kernel only: under emulation, reading the 4,230 xz modules takes about five minutes
# (xz decompression is ~50 times slower under TCG), which the whole-tree byte comparison on the
# host already covers; the point here, kmod's modprobe loading from our index, needs one kernel.
if ($env:LKMBENCH_KERNEL -ne 'xz') {
Describe 'Update-ModuleDependency in a real kernel' -Tag 'RealKernel' {
    BeforeAll {
        if (-not (Test-Path /proc/modules)) { throw 'These tests need a real kernel: run them through tests/KernelBench (build.ps1 KernelTest).' }
        $script:dir = "/lib/modules/$(uname -r)"
        $script:kmodDep = Get-FileHash "$dir/modules.dep"
        modprobe -r msdos 2>$null
    }
    AfterAll { modprobe -r msdos 2>$null }

    It 'rebuilds a deleted index with the same bytes, and kmod''s modprobe msdos then loads fat and msdos' {
        Remove-Item "$dir/modules.dep", "$dir/modules.dep.bin", "$dir/modules.alias.bin", "$dir/modules.symbols.bin"
        modprobe msdos 2>$null
        Test-Loaded msdos | Should -BeFalse -Because 'without modules.dep kmod cannot resolve msdos'
        $r = Update-ModuleDependency -PassThru
        $r.KernelVersion | Should -Be (uname -r)
        (Get-FileHash "$dir/modules.dep").Hash | Should -Be $kmodDep.Hash
        modprobe msdos
        $LASTEXITCODE | Should -Be 0
        Test-Loaded fat | Should -BeTrue
        Test-Loaded msdos | Should -BeTrue
    }

    It 'a second run with -Quick does nothing' {
        (Update-ModuleDependency -Quick -PassThru).Skipped | Should -BeTrue
    }
}
} else { Write-Host 'guest: Update-ModuleDependency runs on the 6.1 guest only (see Depmod.Tests.ps1)' }
