<#
.SYNOPSIS
    Runs a Pester suite in this (child) pwsh, writes NUnit XML, prints a plain closing line and
    exits non-zero when any test failed or none ran.
#>
param(
    [Parameter(Mandatory)] [string[]] $Path,
    [Parameter(Mandatory)] [string] $ResultFile,
    [string[]] $Tag,
    [string[]] $ExcludeTag
)
$ErrorActionPreference = 'Stop'
Import-Module Pester -RequiredVersion 6.2.0
$config = New-PesterConfiguration
# 'pwsh -File' passes one string: a comma-separated list stands for several paths.
$config.Run.Path = @($Path | ForEach-Object { $_ -split ',' })
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultFile
# Likewise for tags: '-ExcludeTag RealKernel,Oracle' arrives as one string under 'pwsh -File'.
if ($Tag) { $config.Filter.Tag = @($Tag | ForEach-Object { $_ -split ',' }) }
if ($ExcludeTag) { $config.Filter.ExcludeTag = @($ExcludeTag | ForEach-Object { $_ -split ',' }) }
New-Item -ItemType Directory -Force (Split-Path $ResultFile) | Out-Null
$result = Invoke-Pester -Configuration $config
# Skipped tests are counted as failures: a test that cannot run must say so and fail.
$failed = $result.FailedCount + $result.SkippedCount + $result.FailedBlocksCount + $result.FailedContainersCount
Write-Host "pester: $($result.PassedCount) passed, $failed failed"
if ($result.PassedCount -eq 0) { Write-Host 'pester: no test ran'; exit 1 }
exit ([Math]::Min($failed, 100))
