# The fake kernel of the unit tests against the real one: the same write-side scenario
# (tests/LkmPowerShell.Engine.Tests/Loading/ReplayScenario.cs) runs here against the running kernel
# and against FakeKernel on the same module tree, and the transcripts must be equal, and equal to
# Replay.expected.txt (which the unit tests hold the fake to on the build machine).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../Pester/TestHelpers.psm1') -Force
    $repo = Get-RepositoryRoot
    Import-Module (Join-Path $repo 'LkmPowerShell.psd1') -Force
    $testDll = Join-Path $repo 'tests/LkmPowerShell.Engine.Tests/bin/Release/net10.0/LkmPowerShell.Engine.Tests.dll'
    if (-not (Test-Path $testDll)) { throw "Build the unit tests first (dotnet build tests/LkmPowerShell.Engine.Tests -c Release): $testDll is missing." }
    Add-Type -Path $testDll
    $script:expected = Get-Content (Join-Path $PSScriptRoot 'Replay.expected.txt')
}

Describe 'The replay scenario on the fake and on the real kernel' -Tag 'RealKernel' {
    BeforeAll {
        if (-not (Test-Path /proc/modules)) { throw 'These tests need a real kernel: run them through tests/KernelBench (build.ps1 KernelTest).' }
        foreach ($m in [LkmPowerShell.Engine.Tests.Loading.ReplayScenario]::Modules) { modprobe -r $m 2>$null }
        $kernel = [LkmPowerShell.Engine.Kernel.RunningKernel]::Host
        $tree = [LkmPowerShell.Engine.ModuleTree.ModuleDirectory]::Open([LkmPowerShell.Engine.SystemRoot]::Host, $kernel.Release)
        $script:real = @([LkmPowerShell.Engine.Tests.Loading.ReplayScenario]::Run($kernel, $tree))
        $scratch = New-Item -ItemType Directory -Force "/tmp/lkm-replay-$PID"
        $fakeKernel = [LkmPowerShell.Engine.Tests.Loading.FakeKernel]::new([LkmPowerShell.Engine.SystemRoot]::new($scratch.FullName), $tree)
        $fakeKernel.Decompression = $kernel.Decompression
        $script:fake = @([LkmPowerShell.Engine.Tests.Loading.ReplayScenario]::Run($fakeKernel, $tree))
        $script:real | Set-Content (Join-Path ($env:LKMBENCH_RESULTS ?? '/tmp') "replay-real-$($kernel.Release).txt")
    }
    AfterAll { foreach ($m in [LkmPowerShell.Engine.Tests.Loading.ReplayScenario]::Modules) { modprobe -r $m 2>$null } }

    It 'the real kernel gives the expected transcript' {
        $real | Should -Be $expected
    }

    It 'the fake kernel gives the same transcript as the real one' {
        $fake | Should -Be $real
    }

    It 'leaves none of the scenario''s modules loaded' {
        foreach ($m in [LkmPowerShell.Engine.Tests.Loading.ReplayScenario]::Modules) {
            Select-String -Path /proc/modules -Pattern "^$m " -Quiet | Should -BeFalse
        }
    }
}
