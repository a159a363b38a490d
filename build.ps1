#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, packages and demonstrates LkmPowerShell.
.DESCRIPTION
    Tasks:
      Build       compile the engine and cmdlets into ./bin and the help into ./en-US, so that
                  'Import-Module ./LkmPowerShell.psd1' works from the repository root.
      Fixtures    fetch the Debian kernels pinned in tests/fixtures/kernels.pin into the fixture
                  cache and run kmod on them (needs root).
      UpdatePins  move tests/fixtures/kernels.pin to the newest kernels the archive serves, or to
                  the releases given with -Pin plain=RELEASE,xz=RELEASE; says what changed.
      HermeticTest  the tests that need no root, no network and no fixtures: the engine's
                  hermetic layer and the cmdlets' Pester tests on synthetic trees.
      UnitTest    the engine's xunit tests (synthetic trees, and Debian's real trees with kmod as
                  the oracle).
      PesterTest  the cmdlets' Pester tests, in a child pwsh.
      KernelTest  the Pester suites tagged for a real kernel, inside Debian's kernels under QEMU.
      Test        all of the above tests: what CI runs.
      Package     a module folder ready to copy into a PSModulePath: ./out/LkmPowerShell/<version>,
                  and the same as a NuGet package for Install-PSResource: ./out/packages/LkmPowerShell.<version>.nupkg.
      Demo        the main job: the classic story, in a real kernel under QEMU.
    Run as 'dotnet pwsh -NoProfile -File ./build.ps1 <Task>...' after 'dotnet tool restore'.
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Fixtures', 'UpdatePins', 'HermeticTest', 'UnitTest', 'PesterTest', 'KernelTest', 'Test', 'Package', 'Demo', 'Clean')]
    [string[]] $Task = @('Build'),

    # UpdatePins: the releases to pin, as flavour=release (plain=6.1.0-56-amd64, xz=6.12.117+deb12-amd64);
    # a flavour not given moves to the newest release the archive serves.
    [string[]] $Pin = @(),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$repo = $PSScriptRoot
$out = Join-Path $repo 'out'
$results = Join-Path $out 'TestResults'
$moduleVersion = (Import-PowerShellDataFile (Join-Path $repo 'LkmPowerShell.psd1')).ModuleVersion

function Invoke-Native {
    # Runs a native command and stops the build when it fails: $ErrorActionPreference does not
    # cover native exit codes.
    param([string] $Command, [string[]] $Arguments)
    Write-Host "> $Command $($Arguments -join ' ')" -ForegroundColor DarkGray
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Invoke-Build {
    Invoke-Native dotnet @('build', (Join-Path $repo 'LkmPowerShell.sln'), '-c', $Configuration, '--nologo', '-v', 'q', '-clp:ErrorsOnly')
    $bin = Join-Path $repo 'bin'
    New-Item -ItemType Directory -Force $bin | Out-Null
    $built = Join-Path $repo "src/LkmPowerShell/bin/$Configuration/net10.0"
    if ($rid = Get-ReadyToRunRuntime) {
        # ReadyToRun (crossgen2): the same IL plus native code for this architecture, so a fresh
        # pwsh runs the module's first calls without waiting for the JIT (measured in the README's
        # performance section). The SDK restores crossgen2 and the runtime pack from NuGet. On
        # another architecture the runtime ignores the native code and JITs the IL as before.
        $built = Join-Path $out "ReadyToRun/$rid"
        Invoke-Native dotnet @('publish', (Join-Path $repo 'src/LkmPowerShell/LkmPowerShell.csproj'), '-c', $Configuration, '-r', $rid,
            '--self-contained', 'false', '-p:PublishReadyToRun=true', '-o', $built, '--nologo', '-v', 'q', '-clp:ErrorsOnly')
    }
    foreach ($file in 'LkmPowerShell.dll', 'LkmPowerShell.Engine.dll', 'LkmPowerShell.pdb', 'LkmPowerShell.Engine.pdb') {
        Copy-Item (Join-Path $built $file) $bin -Force
    }
    # The help is built from docs/en-US (PlatyPS markdown) by the project's own converter, in a
    # child pwsh that imports the fresh build, so the help is checked against the real cmdlets.
    Invoke-Native dotnet @('pwsh', '-NoProfile', '-NonInteractive', '-File', (Join-Path $repo 'build/Build-Help.ps1'))
}

function Get-ReadyToRunRuntime {
    # The runtime identifier to precompile for: Linux on x64 or arm64 (the module is Linux-only);
    # $null elsewhere or when LKM_NO_READYTORUN is set (IL only, as a plain 'dotnet build' makes).
    if ($env:LKM_NO_READYTORUN -or -not $IsLinux) { return $null }
    switch ([System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture) {
        'X64' { 'linux-x64' }
        'Arm64' { 'linux-arm64' }
        default { $null }
    }
}

function Get-FixtureCache {
    if ($env:LKM_FIXTURES) { $env:LKM_FIXTURES } else { '/var/cache/lkmpowershell' }
}

function Get-FixturesCommand([switch] $BenchTools) {
    # -BenchTools: the kernel bench's QEMU, busybox and cpio too, in the same apt run as the headers.
    @('bash', (Join-Path $repo 'tests/fixtures/get-debian-kernels.sh')) + @(if ($BenchTools) { '--bench-tools' })
}

function Invoke-Fixtures([switch] $BenchTools) {
    $command = Get-FixturesCommand -BenchTools:$BenchTools
    Invoke-Native $command[0] $command[1..($command.Count - 1)]
}

function Invoke-UpdatePins {
    # 'pwsh -File build.ps1 UpdatePins -Pin plain=A,xz=B' passes 'plain=A,xz=B' as one string.
    $pins = @($Pin | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
    Invoke-Native bash (@((Join-Path $repo 'tests/fixtures/update-pins.sh')) + $pins)
}

function Invoke-HermeticTest {
    # No fixtures, no root, no network: the oracle layer (Debian's trees, kmod), the privileged tests
    # (device nodes need CAP_MKNOD) and the guests are left out by name, and everything else runs.
    Invoke-Native dotnet @('test', (Join-Path $repo 'tests/LkmPowerShell.Engine.Tests'), '-c', $Configuration, '--nologo',
        '--filter', 'Layer!=Oracle&Layer!=Privileged', '--logger', "junit;LogFilePath=$results/engine.junit.xml", '--logger', 'console;verbosity=minimal')
    $modules = Restore-Pester
    $env:PSModulePath = "$modules$([IO.Path]::PathSeparator)$env:PSModulePath"
    Invoke-Native dotnet @('pwsh', '-NoProfile', '-NonInteractive', '-File', (Join-Path $repo 'tests/Invoke-PesterSuite.ps1'),
        '-Path', ((Join-Path $repo 'tests/Pester') + ',' + (Join-Path $repo 'examples')), '-ResultFile', (Join-Path $results 'pester.xml'), '-ExcludeTag', 'RealKernel,Oracle,Privileged')
}

function Restore-Pester {
    # Pester is a chocolatey-style package on NuGet: restoring a download-only project puts it in
    # the NuGet cache, and its tools/ folder is the PowerShell module.
    $target = Join-Path $out 'Modules/Pester/6.2.0'
    if (-not (Test-Path (Join-Path $target 'Pester.psd1'))) {
        Invoke-Native dotnet @('restore', (Join-Path $repo 'build/Pester.Download.proj'), '--nologo', '-v', 'q')
        $nugetRoot = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
        New-Item -ItemType Directory -Force $target | Out-Null
        Copy-Item (Join-Path $nugetRoot 'pester/6.2.0/tools/*') $target -Recurse -Force
    }
    Join-Path $out 'Modules'
}

function Get-UnitTestCommand {
    @('dotnet', 'test', (Join-Path $repo 'tests/LkmPowerShell.Engine.Tests'), '-c', $Configuration, '--nologo',
        '--logger', "junit;LogFilePath=$results/engine.junit.xml", '--logger', 'console;verbosity=normal')
}

function Invoke-UnitTest {
    $command = Get-UnitTestCommand
    Invoke-Native $command[0] $command[1..($command.Count - 1)]
}

function Start-Background {
    # Starts a command beside this one, its output (stdout and stderr) into a log file that
    # Wait-Background prints. -Nice lowers its priority: the host's suites fill the CPU the guests
    # leave idle instead of slowing the kernel bench, which is the longest part of a run.
    param([string] $Name, [string[]] $Command, [switch] $Nice)
    $log = Join-Path $out "logs/$Name.log"
    New-Item -ItemType Directory -Force (Split-Path $log) | Out-Null
    $psi = [Diagnostics.ProcessStartInfo]::new('bash')
    $run = if ($Nice) { 'exec nice -n 10 "$@" > "$0" 2>&1' } else { 'exec "$@" > "$0" 2>&1' }
    foreach ($a in @('-c', $run, $log) + $Command) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    Write-Host "> (beside) $($Command -join ' ')" -ForegroundColor DarkGray
    [pscustomobject]@{ Name = $Name; Log = $log; Process = [Diagnostics.Process]::Start($psi); Watch = [Diagnostics.Stopwatch]::StartNew() }
}

function Wait-Background($Job) {
    # Waits for a command Start-Background started, prints its output, and fails like Invoke-Native.
    $Job.Process.WaitForExit()
    $seconds = $Job.Watch.Elapsed.TotalSeconds
    Write-Host "== $($Job.Name): output" -ForegroundColor Cyan
    Get-Content -LiteralPath $Job.Log -ErrorAction SilentlyContinue | Write-Host
    Write-Host ("== {0}: exit code {1} after {2:n0} s" -f $Job.Name, $Job.Process.ExitCode, $seconds) -ForegroundColor Cyan
    if ($Job.Process.ExitCode -ne 0) { throw "$($Job.Name) failed with exit code $($Job.Process.ExitCode)." }
}

function Get-PesterTestCommand {
    $modules = Restore-Pester
    # A child pwsh: a loaded binary module cannot be unloaded, and the tests import the fresh build.
    $env:PSModulePath = "$modules$([IO.Path]::PathSeparator)$env:PSModulePath"
    @('dotnet', 'pwsh', '-NoProfile', '-NonInteractive', '-File', (Join-Path $repo 'tests/Invoke-PesterSuite.ps1'),
        '-Path', ((Join-Path $repo 'tests/Pester') + ',' + (Join-Path $repo 'examples')), '-ResultFile', (Join-Path $results 'pester.xml'), '-ExcludeTag', 'RealKernel')
}

function Invoke-PesterTest {
    $command = Get-PesterTestCommand
    Invoke-Native $command[0] $command[1..($command.Count - 1)]
}

function Invoke-KernelTest {
    $modules = Restore-Pester
    Invoke-Native dotnet @('pwsh', '-NoProfile', '-NonInteractive', '-File', (Join-Path $repo 'tests/KernelBench/Invoke-KernelBench.ps1'),
        '-Kernel', 'all', '-GuestScript', (Join-Path $repo 'tests/KernelBench/guest'), '-ResultsDirectory', (Join-Path $results 'kernel'), '-ModulePath', $modules)
}

function Invoke-Package {
    $target = Join-Path $out "LkmPowerShell/$moduleVersion"
    if (Test-Path $target) { Remove-Item $target -Recurse -Force }
    New-Item -ItemType Directory -Force (Join-Path $target 'bin'), (Join-Path $target 'en-US') | Out-Null
    Copy-Item (Join-Path $repo 'LkmPowerShell.psd1'), (Join-Path $repo 'LkmPowerShell.Format.ps1xml'), (Join-Path $repo 'LkmPowerShell.Types.ps1xml'), (Join-Path $repo 'LICENSE') $target
    Copy-Item (Join-Path $repo 'bin/*.dll') (Join-Path $target 'bin')
    Copy-Item (Join-Path $repo 'en-US/*') (Join-Path $target 'en-US')
    Write-Host "Packaged: $target (copy the LkmPowerShell folder into a PSModulePath folder)"
    # The same folder as a NuGet package, for Install-PSResource from a repository (a file share or a feed).
    $packages = Join-Path $out 'packages'
    New-Item -ItemType Directory -Force $packages | Out-Null
    Get-ChildItem $packages -Filter 'LkmPowerShell.*.nupkg' | Remove-Item -Force
    Import-Module Microsoft.PowerShell.PSResourceGet
    Compress-PSResource -Path $target -DestinationPath $packages
    $nupkg = Join-Path $packages "LkmPowerShell.$moduleVersion.nupkg"
    if (-not (Test-Path $nupkg)) { throw "Compress-PSResource did not write $nupkg." }
    Write-Host "Packaged: $nupkg (Register-PSResourceRepository -Name LkmLocal -Uri $packages -Trusted; Install-PSResource LkmPowerShell -Repository LkmLocal)"
}

function Invoke-Demo {
    $modules = Restore-Pester
    Invoke-Native dotnet @('pwsh', '-NoProfile', '-NonInteractive', '-File', (Join-Path $repo 'tests/KernelBench/Invoke-KernelBench.ps1'),
        '-Kernel', 'plain', '-GuestScript', (Join-Path $repo 'tests/KernelBench/guest/Demo.ps1'), '-AllowNoResultFile', '-ResultsDirectory', (Join-Path $out 'demo'))
}

function Invoke-Suites {
    # Every suite runs even when an earlier one failed, so one run reports everything; the build
    # then fails if any did. The last line counts every test of every suite.
    # The host's suites run beside the kernel bench, at a lower priority: the bench's guests are
    # the longest part, and the host's suites use the CPU time they leave. (Measured on a 2-core
    # machine: with the Pester suite at the normal priority, the guests took about 30% longer and the
    # run used 7% more CPU time, and it ended no sooner: 855 s against 837 s.)
    $failures = @()
    $beside = @(
        (Start-Background -Name 'engine (xunit)' -Command (Get-UnitTestCommand) -Nice),
        (Start-Background -Name 'cmdlets (Pester)' -Command (Get-PesterTestCommand) -Nice))
    try { Invoke-KernelTest } catch { Write-Host "FAILED: real kernels (QEMU bench): $_" -ForegroundColor Red; $failures += 'real kernels (QEMU bench)' }
    foreach ($job in $beside) {
        try { Wait-Background $job } catch { Write-Host "FAILED: $($job.Name): $_" -ForegroundColor Red; $failures += $job.Name }
    }
    $passed = 0; $failed = 0
    foreach ($file in Get-ChildItem $results -Recurse -Filter '*.xml') {
        $root = ([xml](Get-Content -Raw $file.FullName)).DocumentElement
        $count = { param($node, [string[]] $names) ($names | ForEach-Object { [int]('0' + $node.GetAttribute($_)) } | Measure-Object -Sum).Sum }
        switch ($root.LocalName) {
            'testsuites' {
                # JUnit (xunit's logger): one testsuite element per assembly.
                foreach ($ts in $root.SelectNodes('testsuite')) {
                    $bad = & $count $ts 'failures', 'errors', 'skipped'
                    $failed += $bad; $passed += (& $count $ts 'tests') - $bad
                }
            }
            'test-results' {
                # NUnit 2.5 (Pester): skipped, ignored and not-run tests count as failures here.
                $bad = & $count $root 'failures', 'errors', 'not-run', 'inconclusive', 'ignored', 'skipped', 'invalid'
                $failed += $bad; $passed += (& $count $root 'total') - (& $count $root 'failures', 'errors', 'not-run', 'inconclusive', 'skipped', 'invalid')
            }
        }
    }
    if ($failures) { Write-Host "Failed suites: $($failures -join ', ')" -ForegroundColor Red; $failed = [Math]::Max($failed, 1) }
    if ($passed -eq 0) { Write-Host 'No test ran.' -ForegroundColor Red; $failed = [Math]::Max($failed, 1) }
    Write-Host "tests: $passed passed, $failed failed"
    if ($failed -gt 0) { throw "$failed test(s) failed." }
}

New-Item -ItemType Directory -Force $results | Out-Null
foreach ($t in $Task) {
    Write-Host "== $t" -ForegroundColor Cyan
    switch ($t) {
        'Clean' { Remove-Item -Recurse -Force (Join-Path $repo 'bin'), $out -ErrorAction SilentlyContinue }
        'Build' { Invoke-Build }
        'Fixtures' { Invoke-Fixtures }
        'UpdatePins' { Invoke-UpdatePins }
        'HermeticTest' {
            Remove-Item -Recurse -Force $results -ErrorAction SilentlyContinue
            New-Item -ItemType Directory -Force $results | Out-Null
            Invoke-Build; Invoke-HermeticTest
        }
        'UnitTest' { Invoke-Fixtures; Invoke-UnitTest }
        'PesterTest' { Invoke-Build; Invoke-Fixtures; Invoke-PesterTest }
        'KernelTest' { Invoke-Build; Invoke-Fixtures -BenchTools; Invoke-Package; Invoke-KernelTest }
        'Test' {
            # Old results would be counted again: start clean.
            Remove-Item -Recurse -Force $results -ErrorAction SilentlyContinue
            New-Item -ItemType Directory -Force $results | Out-Null
            # The fixtures download (network, apt) and the bench precompiles pwsh for the guests
            # while the build compiles. The kernel bench's fleet suite installs the .nupkg in the guests.
            $prepared = @(
                (Start-Background -Name 'fixtures' -Command (Get-FixturesCommand -BenchTools)),
                (Start-Background -Name 'kernel bench: machine' -Command @('dotnet', 'pwsh', '-NoProfile', '-NonInteractive', '-File', (Join-Path $repo 'tests/KernelBench/Invoke-KernelBench.ps1'), '-Prepare')))
            try { Invoke-Build; Invoke-Package } finally { foreach ($job in $prepared) { Wait-Background $job } }
            Invoke-Suites
        }
        'Package' { Invoke-Build; Invoke-Package }
        'Demo' { Invoke-Build; Invoke-Fixtures -BenchTools; Invoke-Demo }
    }
}
