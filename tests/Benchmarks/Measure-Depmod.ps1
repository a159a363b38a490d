<#
.SYNOPSIS
    Times kmod's depmod against Update-ModuleDependency on Debian's two real trees, in one run on
    the same machine, checks that the outputs are identical, and prints medians, ratios
    (ours / kmod) and peak memory.
.DESCRIPTION
    Both run on a scratch copy of each tree (hard links made with cp -al: Debian's kmod 30 has no
    -o, and both tools replace their files by rename, so the fixture trees are never written).
    Ours is timed four ways:
      session-cold   in one pwsh session (module already imported), with no cache of earlier runs
      session-warm   the same, with the per-module cache of the previous run (nothing changed)
      session-1new   the cache present and one module file newer (a package just installed one)
      process-cold   a whole 'dotnet pwsh -c' process per run, no cache
    Peak memory (max RSS) comes from GNU time for the processes, and from the session's peak
    working set for the in-session runs (a whole pwsh, so an upper bound).
    Run: dotnet pwsh -NoProfile -File tests/Benchmarks/Measure-Depmod.ps1 [-Runs 5]
#>
param(
    [ValidateRange(1, 50)] [int] $Runs = 5,
    [ValidateSet('plain', 'xz')] [string[]] $Tree = @('plain', 'xz')
)
$ErrorActionPreference = 'Stop'
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
Import-Module (Join-Path $repo 'tests/Pester/TestHelpers.psm1')
Import-Module (Join-Path $repo 'LkmPowerShell.psd1')
if (-not (Test-Path /usr/bin/time)) {
    Write-Host 'Installing GNU time (Debian package time) for peak-memory figures...'
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq time *> $null
    if (-not (Test-Path /usr/bin/time)) { throw 'GNU time (/usr/bin/time) is needed for peak memory; apt-get install time' }
}
$kmodFiles = 'modules.dep', 'modules.dep.bin', 'modules.alias', 'modules.alias.bin', 'modules.softdep',
    'modules.symbols', 'modules.symbols.bin', 'modules.builtin.bin', 'modules.builtin.alias.bin', 'modules.devname'
$scratch = Join-Path ([IO.Path]::GetTempPath()) "lkm-bench-$PID"

function Get-Median([double[]] $Values) {
    $s = $Values | Sort-Object
    if ($s.Count % 2) { $s[[int][Math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 }
}

function Measure-Process([string[]] $Command) {
    # GNU time: wall seconds and max RSS (KiB) of the command and its children.
    $out = & /usr/bin/time -f 'LKMTIME %e %M' @Command 2>&1
    if ($LASTEXITCODE -ne 0) { throw "$($Command -join ' ') failed: $out" }
    $line = $out | Where-Object { "$_" -like 'LKMTIME *' } | Select-Object -Last 1
    $f = "$line".Split(' ')
    [pscustomobject]@{ Seconds = [double]$f[1]; PeakMiB = [double]$f[2] / 1024 }
}

function Assert-SameOutput([string] $Directory, [hashtable] $KmodHashes) {
    foreach ($name in $kmodFiles) {
        if ((Get-FileHash (Join-Path $Directory $name)).Hash -ne $KmodHashes[$name]) { throw "$name written by Update-ModuleDependency differs from kmod's depmod's" }
    }
}

$rows = @()
try {
    foreach ($flavour in $Tree) {
        $f = Get-KernelFixture $flavour
        $root = Join-Path $scratch "$flavour/root"
        New-Item -ItemType Directory -Force $root | Out-Null
        & cp -al (Join-Path $f.Root 'lib') $root
        if ($LASTEXITCODE -ne 0) { throw "cp -al of $($f.Root)/lib failed" }
        $dir = Join-Path $root "lib/modules/$($f.Version)"
        $cache = Join-Path $root "var/cache/lkmpowershell/depmod/$($f.Version)/modules.lkmpowershell.cache"
        $kmodHashes = @{}
        $times = @{ kmod = @(); 'session-cold' = @(); 'session-warm' = @(); 'session-1new' = @(); 'process-cold' = @() }
        $kmodPeak = 0; $processPeak = 0
        Write-Host "== $flavour $($f.Version): $Runs runs each" -ForegroundColor Cyan
        for ($i = 0; $i -lt $Runs; $i++) {
            $k = Measure-Process @('depmod', '-b', $root, $f.Version)
            $times.kmod += $k.Seconds; $kmodPeak = [Math]::Max($kmodPeak, $k.PeakMiB)
            foreach ($name in $kmodFiles) { $kmodHashes[$name] = (Get-FileHash (Join-Path $dir $name)).Hash }

            Remove-Item $cache -ErrorAction SilentlyContinue
            $times.'session-cold' += (Measure-Command { Update-ModuleDependency -Root $root -KernelVersion $f.Version }).TotalSeconds
            $times.'session-warm' += (Measure-Command { Update-ModuleDependency -Root $root -KernelVersion $f.Version }).TotalSeconds

            # One module newer than the cache knows it: only it is read again.
            $one = Get-ChildItem -Recurse -File (Join-Path $dir 'kernel/drivers/net') -Filter 'dummy.ko*' | Select-Object -First 1
            $original = $one.LastWriteTimeUtc
            try {
                $one.LastWriteTimeUtc = [DateTime]::UtcNow
                $times.'session-1new' += (Measure-Command { Update-ModuleDependency -Root $root -KernelVersion $f.Version }).TotalSeconds
            } finally { $one.LastWriteTimeUtc = $original }   # a hard link: the fixture's file is left as it was

            Remove-Item $cache -ErrorAction SilentlyContinue
            Push-Location $repo
            try {
                $p = Measure-Process @('dotnet', 'pwsh', '-NoProfile', '-NonInteractive', '-Command',
                    "Import-Module '$repo/LkmPowerShell.psd1'; Update-ModuleDependency -Root '$root' -KernelVersion '$($f.Version)'")
            } finally { Pop-Location }
            $times.'process-cold' += $p.Seconds; $processPeak = [Math]::Max($processPeak, $p.PeakMiB)
            Assert-SameOutput $dir $kmodHashes
        }
        $kmodMedian = Get-Median $times.kmod
        $sessionPeak = (Get-Process -Id $PID).PeakWorkingSet64 / 1MB
        foreach ($name in 'kmod', 'session-cold', 'session-warm', 'session-1new', 'process-cold') {
            $median = Get-Median $times.$name
            $peak = switch ($name) { 'kmod' { $kmodPeak } 'process-cold' { $processPeak } default { $sessionPeak } }
            $rows += [pscustomobject]@{
                Tree = $flavour; Runner = $name; MedianSeconds = [Math]::Round($median, 3)
                Ratio = [Math]::Round($median / $kmodMedian, 2); PeakMiB = [Math]::Round($peak, 1)
                Runs = ($times.$name | ForEach-Object { [Math]::Round($_, 2) }) -join ' '
            }
        }
    }
}
finally {
    Remove-Item -Recurse -Force $scratch -ErrorAction SilentlyContinue
}
$rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
Write-Host 'Outputs identical to kmod''s depmod on every run (10 files, SHA-256). Ratio = median / kmod''s median in this run; the goal is 0.5.'
