<#
.SYNOPSIS
    The fuzzing campaign: builds the fuzz targets, instruments the engine with SharpFuzz, seeds each
    target from Debian's real module trees and runs AFL++ on each target in turn for -Seconds.
.DESCRIPTION
    Prints, per target: executions, coverage (edges found, bitmap coverage), and findings (crashes
    and hangs saved by AFL++, with their folder). A finding is fixed in the engine and its input is
    copied to fuzz/regressions/<target>/, which the unit tests replay (FuzzRegressionTests).
    Needs afl-fuzz (Debian: apt-get -o DPkg::Lock::Timeout=300 install afl++) and the fixtures in
    $LKM_FIXTURES (tests/fixtures/get-debian-kernels.sh). Runs under `nice -n 19`: it is meant for
    a shared machine, one target at a time. Not part of CI; -Seconds 5 is the smoke run.

    modprobe-c is a differential target and needs no AFL++: -Mutants mutants of modprobe.d files
    (the host's and the fixtures' modprobe.d, the trees' modules.softdep, hand-written lines) are
    read by the engine and by kmod's modprobe -c, and the outputs compared byte for byte. It prints
    how many agreed, how many differed and the classes of the differences (the first line that
    differs), and keeps three inputs of each class, with both outputs, under <OutputPath>/judge.
.EXAMPLE
    dotnet pwsh -NoProfile -File fuzz/Invoke-Fuzz.ps1 -Target modprobe-c -Mutants 20000
.EXAMPLE
    dotnet pwsh -NoProfile -File fuzz/Invoke-Fuzz.ps1 -Seconds 600
.EXAMPLE
    dotnet pwsh -NoProfile -File fuzz/Invoke-Fuzz.ps1 -Target kallsyms,index -Seconds 60
#>
[CmdletBinding()]
param(
    # 'pwsh -File' passes "a,b" as one string: commas separate targets too.
    [string[]] $Target = @('modprobe-c', 'module', 'index', 'modules-dep', 'modprobe-d', 'kallsyms', 'module-file', 'depmod-cache'),
    [ValidateRange(1, 86400)]
    [int] $Seconds = 600,
    [string] $OutputPath = (Join-Path $PSScriptRoot 'out'),
    # modprobe-c: how many mutants to judge, and the random seed that makes them (the same seed, the same mutants).
    [ValidateRange(1, 10000000)]
    [int] $Mutants = 5000,
    [int] $RandomSeed = 1,
    [string] $Fixtures = ($env:LKM_FIXTURES ?? '/var/cache/lkmpowershell')
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$known = 'modprobe-c', 'module', 'index', 'modules-dep', 'modprobe-d', 'kallsyms', 'module-file', 'depmod-cache'
$Target = @($Target | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
foreach ($t in $Target) { if ($t -notin $known) { throw "Unknown target '$t'; the targets are: $($known -join ', ')" } }

# 0. The differential target: kmod's modprobe -c judges, no AFL++ and no instrumentation needed.
if ('modprobe-c' -in $Target) {
    if (-not (Get-Command modprobe -ErrorAction Ignore)) { throw "modprobe-c needs kmod's modprobe as the judge: apt-get install kmod" }
    $judgeBin = Join-Path $OutputPath 'judge-bin'
    $judgeSeeds = Join-Path $OutputPath 'judge-seeds'
    $judgeOut = Join-Path $OutputPath 'judge'
    Remove-Item -Recurse -Force $judgeSeeds, $judgeOut -ErrorAction Ignore
    New-Item -ItemType Directory -Force $judgeSeeds | Out-Null
    dotnet build (Join-Path $PSScriptRoot 'LkmPowerShell.Fuzz') -c Release -o $judgeBin -nologo -v quiet | Out-Null
    if ($LASTEXITCODE) { throw "dotnet build of the fuzz targets failed ($LASTEXITCODE)" }
    $kernelList = Join-Path $Fixtures 'kernels.txt'
    $roots = @('/') + @(if (Test-Path $kernelList) { foreach ($line in Get-Content $kernelList) { Join-Path $Fixtures "$(($line -split ' ', 2)[1])/root" } })
    $n = 0
    foreach ($r in $roots) {
        $n++
        foreach ($d in 'etc/modprobe.d', 'lib/modprobe.d', 'usr/lib/modprobe.d') {
            Get-ChildItem -File (Join-Path $r $d) -Filter '*.conf' -ErrorAction Ignore | Where-Object Length -lt 64KB |
                ForEach-Object { Copy-Item $_.FullName (Join-Path $judgeSeeds "$n-$($d -replace '/', '_')-$($_.Name)") }
        }
        Get-ChildItem (Join-Path $r 'lib/modules') -Directory -ErrorAction Ignore | ForEach-Object {
            $softdep = Join-Path $_.FullName 'modules.softdep'
            if (Test-Path $softdep) { Get-Content $softdep -TotalCount 40 | Set-Content (Join-Path $judgeSeeds "$n-$($_.Name)-softdep.conf") }
        }
    }
    Write-Host "fuzz: modprobe-c, $Mutants mutants of $((Get-ChildItem $judgeSeeds).Count) seeds (and the hand-written ones) -> $judgeOut"
    nice -n 19 dotnet (Join-Path $judgeBin 'LkmPowerShell.Fuzz.dll') --judge modprobe-c $judgeSeeds $Mutants $judgeOut $RandomSeed | Write-Host
    if ($LASTEXITCODE) { Write-Host "fuzz: modprobe-c found crashes; their inputs are in $judgeOut" }
    $Target = @($Target | Where-Object { $_ -ne 'modprobe-c' })
    if (-not $Target) { return }
}

if (-not (Get-Command afl-fuzz -ErrorAction Ignore)) {
    throw 'afl-fuzz is missing. Install AFL++: sudo apt-get -o DPkg::Lock::Timeout=300 install -y afl++'
}
$kernels = Join-Path $Fixtures 'kernels.txt'
if (-not (Test-Path $kernels)) {
    throw "No fixtures in $Fixtures (kernels.txt is missing). Run: sudo tests/fixtures/get-debian-kernels.sh"
}

# 1. Build and instrument. The instrumented engine lives only in $OutputPath/bin, never in ./bin.
$bin = Join-Path $OutputPath 'bin'
Push-Location $PSScriptRoot
try {
    dotnet tool restore | Out-Null
    dotnet build LkmPowerShell.Fuzz -c Release -o $bin -nologo -v quiet | Out-Null
    if ($LASTEXITCODE) { throw "dotnet build of the fuzz targets failed ($LASTEXITCODE)" }
    # depmod-cache's seeds come from a real depmod run, which the instrumented engine cannot do
    # outside afl-fuzz (its coverage map is not there): made now, before instrumenting.
    $cacheSeeds = Join-Path $OutputPath 'depmod-cache-seeds'
    if ('depmod-cache' -in $Target) {
        Remove-Item -Recurse -Force $cacheSeeds -ErrorAction Ignore
        $plainTree = foreach ($line in Get-Content $kernels) { $v = ($line -split ' ', 2)[1]; Join-Path $Fixtures "$v/root/lib/modules/$v"; break }
        dotnet (Join-Path $bin 'LkmPowerShell.Fuzz.dll') --seeds depmod-cache $cacheSeeds $plainTree | Out-Null
        if ($LASTEXITCODE) { throw "seeding depmod-cache failed ($LASTEXITCODE)" }
    }
    dotnet sharpfuzz (Join-Path $bin 'LkmPowerShell.Engine.dll') | Out-Null
    if ($LASTEXITCODE) { throw "sharpfuzz could not instrument the engine ($LASTEXITCODE)" }
}
finally { Pop-Location }

# 2. Seeds: real files from both Debian trees, small ones first (AFL++ works best on seeds of a few KiB).
function Get-Trees {
    foreach ($line in Get-Content $kernels) {
        $version = ($line -split ' ', 2)[1]
        Join-Path $Fixtures "$version/root/lib/modules/$version"
    }
}
function Copy-Head([string] $From, [string] $To, [int] $Lines) {
    if (Test-Path $From) { Get-Content $From -TotalCount $Lines | Set-Content -LiteralPath $To }
}
function New-Seeds([string] $Name, [string] $Folder) {
    New-Item -ItemType Directory -Force $Folder | Out-Null
    $n = 0
    foreach ($tree in Get-Trees) {
        $n++
        switch ($Name) {
            'module' {
                # Eight of the smallest modules of each tree: plain .ko in one, .ko.xz in the other.
                Get-ChildItem -Recurse -File (Join-Path $tree 'kernel') -Include '*.ko', '*.ko.xz', '*.ko.zst', '*.ko.gz' |
                    Sort-Object Length | Select-Object -First 8 |
                    ForEach-Object { Copy-Item $_.FullName (Join-Path $Folder "$n-$($_.Name)") }
            }
            'module-file' {
                # Plain modules on both sides of the 32 KiB tail the sparse reader reads first.
                if ($n -eq 1) {
                    Get-ChildItem -Recurse -File (Join-Path $tree 'kernel') -Filter '*.ko' | Where-Object Length -lt 12KB |
                        Sort-Object Length | Select-Object -First 4 | ForEach-Object { Copy-Item $_.FullName (Join-Path $Folder "small-$($_.Name)") }
                    Get-ChildItem -Recurse -File (Join-Path $tree 'kernel') -Filter '*.ko' | Where-Object { $_.Length -gt 40KB -and $_.Length -lt 64KB } |
                        Sort-Object Length | Select-Object -First 4 | ForEach-Object { Copy-Item $_.FullName (Join-Path $Folder "large-$($_.Name)") }
                }
            }
            'depmod-cache' {
                # A real run's cache and record (the target makes their checksums valid again after each mutation).
                if ($n -eq 1) { Copy-Item (Join-Path $cacheSeeds '*') $Folder }
            }
            'index' {
                foreach ($f in 'modules.builtin.bin', 'modules.builtin.alias.bin', 'modules.devname') {
                    $p = Join-Path $tree $f
                    if ((Test-Path $p) -and $f.EndsWith('.bin')) { Copy-Item $p (Join-Path $Folder "$n-$f") }
                }
            }
            'modules-dep' {
                # The first byte picks the parser (Targets.ModuleTreeTextFiles): 0 dep, 1 alias, 2 softdep.
                foreach ($pair in @(@(0, 'modules.dep'), @(1, 'modules.alias'), @(2, 'modules.softdep'))) {
                    $p = Join-Path $tree $pair[1]
                    if (-not (Test-Path $p)) { continue }
                    $head = [System.IO.File]::ReadAllLines($p) | Select-Object -First 40
                    $bytes = [byte[]]@($pair[0]) + [System.Text.Encoding]::UTF8.GetBytes(($head -join "`n") + "`n")
                    [System.IO.File]::WriteAllBytes((Join-Path $Folder "$n-$($pair[1])"), $bytes)
                }
            }
            'modprobe-d' {
                $etc = Join-Path (Split-Path (Split-Path (Split-Path $tree))) 'etc/modprobe.d'
                if (Test-Path $etc) { Get-ChildItem -File $etc | ForEach-Object { Copy-Item $_.FullName (Join-Path $Folder "$n-$($_.Name)") } }
                # The softdep lines of the tree exercise the softdep syntax.
                Copy-Head (Join-Path $tree 'modules.softdep') (Join-Path $Folder "$n-softdep.conf") 40
            }
            'kallsyms' {
                # No tree carries a kallsyms: System.map is the same "address type name" format.
                $map = Get-ChildItem (Join-Path $tree '../../../boot') -Filter 'System.map-*' -ErrorAction Ignore | Select-Object -First 1
                if ($map) { Copy-Head $map.FullName (Join-Path $Folder "$n-System.map") 200 }
                # Over the parser's 64 KiB buffer, so the read-ahead thread serves part of the file.
                if ($map -and $n -eq 1) { Copy-Head $map.FullName (Join-Path $Folder "$n-System.map.long") 2500 }
            }
        }
    }
    # Hand-written seeds for what the trees do not have.
    switch ($Name) {
        'modprobe-d' {
            Set-Content (Join-Path $Folder 'hand.conf') @(
                '# comment', 'alias pci:v00008086d* e1000e', 'options snd_hda_intel index=1 model="a b"',
                'install dummy /bin/true \', '  && echo x', 'remove dummy /bin/false', 'blacklist pcspkr',
                'softdep fat pre: nls_cp437 post: msdos', 'weakdep fat nls_utf8')
        }
        'kallsyms' {
            Set-Content (Join-Path $Folder 'hand.kallsyms') @(
                'ffffffff81000000 T _text', 'ffffffff81001000 t helper', "ffffffffc0000000 t fat_init`t[fat]",
                "0000000000000000 T hidden`t[msdos]")
        }
    }
    if (-not (Get-ChildItem $Folder)) { throw "No seeds for $Name in $Fixtures" }
}

# 3. Run each target in turn and report.
$env:AFL_SKIP_BIN_CHECK = '1'       # a .NET program has no AFL instrumentation AFL++ can see in the binary
$env:AFL_NO_UI = '1'
$env:AFL_NO_AFFINITY = '1'          # a shared machine: do not pin a core
$env:AFL_SKIP_CPUFREQ = '1'
$env:AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES = '1'
# Not AFL_SKIP_CRASHES: with it, AFL++ 4.04c aborts the modules-dep dry run with "No instrumentation detected".
$env:DOTNET_TieredPGO = '0'
$dotnet = (Get-Command dotnet -CommandType Application | Select-Object -First 1).Source
$results = foreach ($name in $Target) {
    $seeds = Join-Path $OutputPath "seeds/$name"
    $findings = Join-Path $OutputPath "findings/$name"
    Remove-Item -Recurse -Force $seeds, $findings -ErrorAction Ignore
    New-Seeds $name $seeds
    New-Item -ItemType Directory -Force (Split-Path $findings) | Out-Null
    $log = Join-Path $OutputPath "$name.log"
    Write-Host "fuzz: $name for $Seconds s ($((Get-ChildItem $seeds).Count) seeds) -> $findings"
    $statsFile = Join-Path $findings 'default/fuzzer_stats'
    # A dry run that fails (a loaded machine) is tried again before giving up on the target.
    foreach ($attempt in 1..3) {
        Remove-Item -Recurse -Force $findings -ErrorAction Ignore
        nice -n 19 afl-fuzz -V $Seconds -t 10000 -m none -i $seeds -o $findings -- $dotnet (Join-Path $bin 'LkmPowerShell.Fuzz.dll') $name *> $log
        if (Test-Path $statsFile) { break }
        Write-Host "fuzz: $name did not start (attempt $attempt); see $log"
    }
    if (-not (Test-Path $statsFile)) {
        [pscustomobject]@{ Target = $name; Seconds = 0; Executions = 0; PerSecond = 0; Edges = ''; Coverage = ''; Corpus = 0; Crashes = 0; Hangs = 0; Findings = "did not start: $log" }
        continue
    }
    $stats = @{}
    foreach ($l in Get-Content $statsFile) { $k, $v = $l -split '\s*:\s*', 2; $stats[$k.Trim()] = $v.Trim() }
    $crashes = @(Get-ChildItem (Join-Path $findings 'default/crashes') -File -ErrorAction Ignore | Where-Object Name -ne 'README.txt')
    $hangs = @(Get-ChildItem (Join-Path $findings 'default/hangs') -File -ErrorAction Ignore)
    [pscustomobject]@{
        Target     = $name
        Seconds    = [int]$stats['run_time']
        Executions = [long]$stats['execs_done']
        PerSecond  = [double]$stats['execs_per_sec']
        Edges      = "$($stats['edges_found'])/$($stats['total_edges'])"
        Coverage   = $stats['bitmap_cvg']
        Corpus     = [int]$stats['corpus_count']
        Crashes    = $crashes.Count
        Hangs      = $hangs.Count
        Findings   = if ($crashes.Count + $hangs.Count) { Split-Path $statsFile } else { '' }
    }
}
$results | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
