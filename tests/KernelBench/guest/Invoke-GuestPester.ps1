# Runs Pester inside the bench guest and writes NUnit XML to the results share.
# Started by Invoke-KernelBench.ps1 for a *.Tests.ps1 file or a folder of them.
# Exit code: 0 when every test passed and at least one ran; otherwise non-zero.
param(
    [Parameter(Mandatory)] [string] $Path,
    [string] $Tag,
    [string] $ExcludeTag,
    [string] $OutputDirectory = $env:LKMBENCH_RESULTS
)
$ErrorActionPreference = 'Stop'
# Progress bars redrawn on an emulated serial console cost real time and fill the log with noise.
$ProgressPreference = 'SilentlyContinue'
$t0 = [Diagnostics.Stopwatch]::StartNew()
if (-not $OutputDirectory) { throw 'Invoke-GuestPester: LKMBENCH_RESULTS is not set (this runs inside the kernel bench guest).' }
function Write-Mark([string] $Name) {
    # Guest uptime marks for the host's timing report (.bench/t-*).
    $d = Join-Path $OutputDirectory '.bench'
    if (Test-Path -LiteralPath $d) { [IO.File]::WriteAllText((Join-Path $d $Name), (Get-Content /proc/uptime -Raw).Split(' ')[0]) }
}
Write-Mark 't-pwsh'
Import-Module Pester -RequiredVersion 6.2.0
Write-Mark 't-pester'
Write-Host ("guest: pwsh {0} ready, Pester {1} imported after {2:n1} s in pwsh; kernel {3} ({4})" -f $PSVersionTable.PSVersion,
    (Get-Module Pester).Version, $t0.Elapsed.TotalSeconds, $env:LKMBENCH_KVER, $env:LKMBENCH_KERNEL)

$name = [IO.Path]::GetFileNameWithoutExtension(($Path.TrimEnd('/') -replace '\.Tests\.ps1$', ''))
$config = New-PesterConfiguration
# Pester runs the containers in the order given. A suite marked '# lkmbench: run last' in its
# first line changes the kernel for the rest of the boot (modules that cannot be unloaded, taint),
# so in a folder run it goes after every other suite.
$config.Run.Path = if (Test-Path -LiteralPath $Path -PathType Container) {
    $files = @(Get-ChildItem -LiteralPath $Path -Filter '*.Tests.ps1' -File -Recurse | Sort-Object FullName)
    # A suite with a '# lkmbench: boot ARGS' line needs a kernel booted with those arguments: the
    # bench boots it on its own (Invoke-KernelBench.ps1), so a boot without them leaves it out, and says so.
    $cmdline = -split (Get-Content -Raw /proc/cmdline)
    $files = @($files | Where-Object {
            $boot = Get-Content -LiteralPath $_.FullName -TotalCount 5 | Where-Object { $_ -match '^#\s*lkmbench:\s*boot\s+(\S.*)$' } | Select-Object -First 1
            $missing = if ($boot -and $boot -match '^#\s*lkmbench:\s*boot\s+(\S.*)$') { @(-split $Matches[1] | Where-Object { $_ -notin $cmdline }) } else { @() }
            if ($missing) { Write-Host "guest: $($_.Name) left out of this boot: it needs $($missing -join ' ') on the kernel command line (the bench boots it on its own)" }
            -not $missing
        })
    $last = { param($f) (Get-Content -LiteralPath $f.FullName -TotalCount 1) -match '^#\s*lkmbench:\s*run last' }
    @($files | Where-Object { -not (& $last $_) }).FullName + @($files | Where-Object { & $last $_ }).FullName
} else { $Path }
$config.Run.PassThru = $true
$config.Run.Exit = $false
$config.Output.Verbosity = 'Detailed'
$config.Output.RenderMode = 'Plaintext'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = Join-Path $OutputDirectory "$name-$env:LKMBENCH_KERNEL.nunit.xml"
$config.TestResult.TestSuiteName = "LkmPowerShell kernel bench: $name on $env:LKMBENCH_KVER"
if ($Tag) { $config.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $config.Filter.ExcludeTag = $ExcludeTag -split ',' }
$r = Invoke-Pester -Configuration $config
Write-Host ("guest: Pester {0}: {1} passed, {2} failed, {3} skipped, {4} not run in {5:n1} s" -f $r.Result, $r.PassedCount,
    $r.FailedCount, $r.SkippedCount, $r.NotRunCount, $t0.Elapsed.TotalSeconds)
if ($r.FailedCount -gt 0 -or $r.FailedBlocksCount -gt 0 -or $r.FailedContainersCount -gt 0) { exit 1 }
if ($r.PassedCount -eq 0) { Write-Host 'guest: no test passed'; exit 3 }
if ($r.Result -ne 'Passed') { exit 4 }
exit 0
