<#
.SYNOPSIS
    The interactive measurement: whole-tree reads, kallsyms, incremental and first depmod, and a fresh
    process, each beside its anchor (find, modinfo, cat, grep, kmod's depmod, xz) timed in the
    same run, with the first run in the session, the median of the later runs, the ratio and
    peak memory.
.DESCRIPTION
    Ours runs in this pwsh session (module imported once, before the first row): run 1 is the
    first call of that row in the session (for the first row also the JIT's first call), the
    median is over the -Runs runs after it. Anchors run as whole processes (sh -c '...'),
    -Runs times, timed with a stopwatch; their figure includes the process start (1-2 ms).
    Ratio = ours median / anchor median. Goal is the row's target; 'met' is judged on the median
    (on the first run for the first-run rows).
    Peak memory is max RSS from GNU time: for ours, of one extra 'dotnet pwsh -c' process that
    imports the module and does the row's work once (so it includes pwsh itself: compare with the
    'fresh process' row, which does next to nothing); for anchors, of one extra run.
    Depmod runs on scratch copies made with cp -al (kmod and ours replace files by rename; the one
    module 'changed' is first copied to its own inode, so no fixture file or time stamp is
    touched). The ten index files are checked against kmod's after every run of ours.
    Run: dotnet pwsh -NoProfile -File tests/Benchmarks/Measure-Interactive.ps1 [-Runs 3] [-Quick]
    -Quick: one run per row, the 6.1 tree only unless -Tree says otherwise (for checking the
    script, not for figures). -Tree plain or xz limits the tree rows to one tree; -Section Listing,
    Filter, Modinfo, Kallsyms, Depmod or Fresh to those groups of rows.
    Filter: "who needs X" over a whole tree through Get-KernelModuleDependency -Reverse and through
    Get-KernelModule (RequiredModules, from modules.dep, and FileSize, from a stat: no module file
    read) beside grep on modules.dep.
#>
param(
    [ValidateRange(1, 50)] [int] $Runs = 3,
    [switch] $Quick,
    [ValidateSet('plain', 'xz')] [string[]] $Tree = @('plain', 'xz'),
    # Only these groups of rows (all by default): listing, modinfo over a tree, kallsyms, depmod, fresh process.
    [ValidateSet('Listing', 'Filter', 'Modinfo', 'Kallsyms', 'Depmod', 'Fresh')] [string[]] $Section = @('Listing', 'Filter', 'Modinfo', 'Kallsyms', 'Depmod', 'Fresh')
)
$ErrorActionPreference = 'Stop'
if ($Quick) { $Runs = 1 }
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
Import-Module (Join-Path $repo 'tests/Pester/TestHelpers.psm1')
Import-Module (Join-Path $repo 'LkmPowerShell.psd1')
if (-not (Test-Path /usr/bin/time)) { throw 'GNU time (/usr/bin/time) is needed for peak memory: apt-get install time' }
$kmodFiles = 'modules.dep', 'modules.dep.bin', 'modules.alias', 'modules.alias.bin', 'modules.softdep',
    'modules.symbols', 'modules.symbols.bin', 'modules.builtin.bin', 'modules.builtin.alias.bin', 'modules.devname'
$scratch = Join-Path ([IO.Path]::GetTempPath()) "lkm-interactive-$PID"
$flavours = @(if ($Quick -and -not $PSBoundParameters.ContainsKey('Tree')) { 'plain' } else { $Tree })
$fixtures = @{}; foreach ($fl in $flavours) { $fixtures[$fl] = Get-KernelFixture $fl }
$rows = [Collections.Generic.List[object]]::new()
$notes = [Collections.Generic.List[string]]::new()

function Get-Median([double[]] $Values) {
    $s = @($Values | Sort-Object)
    if ($s.Count % 2) { $s[[int][Math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 }
}

function Measure-Sh([string] $Script) {
    # Milliseconds of a whole anchor process (sh -c, so pipes and redirections work).
    $sw = [Diagnostics.Stopwatch]::StartNew()
    & /bin/sh -c $Script
    $ms = $sw.Elapsed.TotalMilliseconds
    if ($LASTEXITCODE -ne 0) { throw "anchor failed ($LASTEXITCODE): $Script" }
    $ms
}

function Measure-Peak([string[]] $Command) {
    # Max RSS (MiB) of a command and its children, from GNU time; the command's other output too.
    $out = & /usr/bin/time -f 'LKMTIME %e %M' @Command 2>&1
    if ($LASTEXITCODE -ne 0) { throw "$($Command -join ' ') failed: $out" }
    $line = $out | Where-Object { "$_" -like 'LKMTIME *' } | Select-Object -Last 1
    [pscustomobject]@{ PeakMiB = [double]"$line".Split(' ')[2] / 1024; Output = @($out | ForEach-Object { "$_" }) }
}

function Get-PwshCommand([string] $Code) {
    @('dotnet', 'pwsh', '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$repo/LkmPowerShell.psd1'; $Code")
}

function Format-Ms([double] $Ms) { if ($Ms -lt 100) { '{0:0.0}' -f $Ms } else { '{0:0}' -f $Ms } }

function Add-Row {
    param([string] $Name, [double] $First, [double[]] $Later, [string] $Anchor, [double[]] $AnchorMs,
        [string] $Goal, [scriptblock] $Met, [double] $OursPeak, [double] $AnchorPeak, [string] $Note)
    $median = Get-Median $Later
    $anchorMedian = if ($AnchorMs) { Get-Median $AnchorMs } else { $null }
    $ratio = if ($anchorMedian) { $median / $anchorMedian } else { $null }
    $row = [pscustomobject]@{
        Operation = $Name
        'First ms' = Format-Ms $First
        'Median ms' = Format-Ms $median
        Anchor = $Anchor
        'Anchor ms' = if ($null -ne $anchorMedian) { Format-Ms $anchorMedian } else { '-' }
        Ratio = if ($null -ne $ratio) { '{0:0.00}' -f $ratio } else { '-' }
        Goal = $Goal
        Met = if ($Met) { if (& $Met $median $ratio $First) { 'yes' } else { 'NO' } } else { '-' }
        'Peak MiB' = if ($OursPeak) { [Math]::Round($OursPeak) } else { '-' }
        'Anchor MiB' = if ($AnchorPeak) { [Math]::Round($AnchorPeak) } else { '-' }
    }
    if ($Note) { $notes.Add("$($Name.Trim()): $Note") }
    $rows.Add($row)
    Write-Host ("  {0}: first {1} ms, median {2} ms; {3} {4} ms; ratio {5}" -f $Name, $row.'First ms', $row.'Median ms', $Anchor, $row.'Anchor ms', $row.Ratio)
}

function Measure-Row {
    # Ours in the session (1 + $Runs runs), the anchor as a process ($Runs runs), peaks once each.
    param([string] $Name, [string] $Ours, [string] $Anchor, [string] $AnchorSh, [string] $Goal,
        [scriptblock] $Met, [string] $Note, [switch] $ReuseOurs, [switch] $NoPeak)
    if ($ReuseOurs) { $ms = $script:lastOurs.Ms; $oursPeak = $script:lastOurs.Peak }   # the same work as the previous row
    else {
        $block = [scriptblock]::Create($Ours)
        $ms = @(for ($i = 0; $i -le $Runs; $i++) { (Measure-Command $block).TotalMilliseconds })
        $oursPeak = if ($NoPeak) { 0 } else { (Measure-Peak (Get-PwshCommand $Ours)).PeakMiB }
        $script:lastOurs = @{ Ms = $ms; Peak = $oursPeak }
    }
    $anchorMs = @(for ($i = 0; $i -lt $Runs; $i++) { Measure-Sh $AnchorSh })
    $anchorPeak = (Measure-Peak @('/bin/sh', '-c', $AnchorSh)).PeakMiB
    Add-Row -Name $Name -First $ms[0] -Later $ms[1..($ms.Count - 1)] -Anchor $Anchor -AnchorMs $anchorMs `
        -Goal $Goal -Met $Met -OursPeak $oursPeak -AnchorPeak $anchorPeak -Note $Note
}

function Select-Section([string] $Name, [object[]] $Items) { if ($Section -contains $Name) { $Items } else { @() } }

function Get-Hashes([string] $Directory) {
    $h = @{}; foreach ($name in $kmodFiles) { $h[$name] = (Get-FileHash (Join-Path $Directory $name)).Hash }; $h
}
function Assert-SameOutput([string] $Directory, [hashtable] $KmodHashes) {
    $h = Get-Hashes $Directory
    foreach ($name in $kmodFiles) { if ($h[$name] -ne $KmodHashes[$name]) { throw "$name written by Update-ModuleDependency differs from kmod's depmod's" } }
}

Push-Location $repo   # 'dotnet pwsh' finds the local tool through the repository's manifest
try {
    New-Item -ItemType Directory -Force $scratch | Out-Null
    Write-Host "Measure-Interactive: $Runs run(s) after the first, trees: $($flavours -join ', '); $([Environment]::ProcessorCount) cores; $(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC; load average $((Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ')" -ForegroundColor Cyan

    # --- Listing a whole tree: Get-KernelModule -ListAvailable -Root ---------------------------
    foreach ($fl in (Select-Section Listing $flavours)) {
        $f = $fixtures[$fl]
        $count = @(& find $f.ModulesDirectory -name '*.ko*').Count
        $label = "$fl $($f.Version), $count files"
        Measure-Row -Name "Get-KernelModule -ListAvailable, whole tree ($label)" `
            -Ours "Get-KernelModule -ListAvailable -Root '$($f.Root)' -KernelVersion '$($f.Version)' | Out-Null" `
            -Anchor 'find -name *.ko*' -AnchorSh "find '$($f.ModulesDirectory)' -name '*.ko*' > /dev/null" `
            -Goal '<= 100 ms' -Met { param($m) $m -le 100 }
        Measure-Row -Name "  the same, time to the first object ($fl)" `
            -Ours "Get-KernelModule -ListAvailable -Root '$($f.Root)' -KernelVersion '$($f.Version)' | Select-Object -First 1 | Out-Null" `
            -Anchor 'find ... -print -quit' -AnchorSh "find '$($f.ModulesDirectory)' -name '*.ko*' -print -quit > /dev/null" `
            -Goal '<= 20 ms' -Met { param($m) $m -le 20 }
    }

    # --- Filtering a whole tree on what depmod's index and a stat know ---------------------------
    foreach ($fl in (Select-Section Filter $flavours)) {
        $f = $fixtures[$fl]
        $dep = Join-Path $f.ModulesDirectory 'modules.dep'
        # Get-KernelModuleDependency -Reverse searches modules.dep's text for fat's path, as grep does,
        # and parses only the lines that match. First: its first call in this session (JIT included).
        Measure-Row -Name "who needs fat: Get-KernelModuleDependency fat -Reverse -Recurse ($fl $($f.Version))" `
            -Ours "Get-KernelModuleDependency fat -Reverse -Recurse -Root '$($f.Root)' -KernelVersion '$($f.Version)' | Out-Null" `
            -Anchor 'grep modules.dep' -AnchorSh "grep -E ':.*/fat\.ko(\.xz)?( |`$)' '$dep' > /dev/null" `
            -Goal '<= 100 ms' -Met { param($m) $m -le 100 }
        $reverseNames = @(Get-KernelModuleDependency fat -Reverse -Recurse -Root $f.Root -KernelVersion $f.Version | Where-Object Role -EQ User).Name
        $grepLines = [int](& /bin/sh -c "grep -cE ':.*/fat\.ko(\.xz)?( |`$)' '$dep'")
        $notes.Add("who needs fat ($fl): Get-KernelModuleDependency $($reverseNames.Count) modules ($($reverseNames -join ', ')), grep $grepLines lines")
        $ourNames = @(Get-KernelModule -ListAvailable -Root $f.Root -KernelVersion $f.Version | Where-Object RequiredModules -contains fat).Name
        $grepCount = [int](& /bin/sh -c "grep -cE ':.*/fat\.ko(\.xz)?( |`$)' '$dep'")
        Measure-Row -Name "who needs fat: -ListAvailable | Where-Object RequiredModules ($fl $($f.Version))" `
            -Ours "Get-KernelModule -ListAvailable -Root '$($f.Root)' -KernelVersion '$($f.Version)' | Where-Object RequiredModules -contains fat | Out-Null" `
            -Anchor 'grep modules.dep' -AnchorSh "grep -E ':.*/fat\.ko(\.xz)?( |`$)' '$dep' > /dev/null" `
            -Goal '<= 500 ms' -Met { param($m) $m -le 500 } -Note "ours $($ourNames.Count) modules ($($ourNames -join ', ')), grep $grepCount lines"
        Measure-Row -Name "  'snd*' | Sort-Object FileSize ($fl)" `
            -Ours "Get-KernelModule -ListAvailable -Root '$($f.Root)' -KernelVersion '$($f.Version)' 'snd*' | Sort-Object FileSize | Out-Null" `
            -Anchor "find snd* -printf %s | sort" -AnchorSh "find '$($f.ModulesDirectory)' -name 'snd*.ko*' -printf '%s %p\n' | sort -n > /dev/null" `
            -Goal '<= 500 ms' -Met { param($m) $m -le 500 }
    }

    # --- modinfo over every file of a tree: Get-KernelModule -LiteralPath ----------------------
    foreach ($fl in (Select-Section Modinfo $flavours)) {
        $f = $fixtures[$fl]
        $files = @(& find $f.ModulesDirectory -name '*.ko*' | Sort-Object)
        $list = Join-Path $scratch "$fl.list"; $nulList = Join-Path $scratch "$fl.list0"
        [IO.File]::WriteAllLines($list, [string[]]$files)
        [IO.File]::WriteAllText($nulList, (($files -join "`0") + "`0"))
        $ours = "Get-KernelModule -LiteralPath ([IO.File]::ReadAllLines('$list')) | Out-Null"
        $goal = if ($fl -eq 'plain') { '<= 0.5x' } else { '-' }
        $met = if ($fl -eq 'plain') { { param($m, $r) $r -le 0.5 } } else { $null }
        Measure-Row -Name "Get-KernelModule -LiteralPath, all $($files.Count) files ($fl)" -Ours $ours `
            -Anchor 'xargs modinfo' -AnchorSh "xargs -0 -a '$nulList' modinfo > /dev/null" -Goal $goal -Met $met
        if ($fl -eq 'xz') {
            Measure-Row -Name "  the same against the decompression floor (xz)" -Ours $ours -ReuseOurs `
                -Anchor 'xargs -P2 xz -dc' -AnchorSh "xargs -0 -a '$nulList' -P2 -n 64 xz -dc > /dev/null" `
                -Goal '<= 1.2x' -Met { param($m, $r) $r -le 1.2 }
        }
    }

    # --- kallsyms: Find-KernelSymbol ------------------------------------------------------------
    if ($Section -contains 'Kallsyms') {
    $kallsymsLines = @(Get-Content /proc/kallsyms).Count
    $kallNote = "/proc/kallsyms has $kallsymsLines lines$(if ($kallsymsLines -lt 100000) { ' (shorter than the ~120k the issue measured)' })"
    Measure-Row -Name 'Find-KernelSymbol, all of /proc/kallsyms' -Ours 'Find-KernelSymbol | Out-Null' `
        -Anchor 'cat /proc/kallsyms' -AnchorSh 'cat /proc/kallsyms > /dev/null' -Goal '<= 1.5x' -Met { param($m, $r) $r -le 1.5 } -Note $kallNote
    # The same enumeration without Out-Null: PowerShell binds every object to Out-Null's
    # -InputObject, which costs more than reading and parsing the file. The next row measures
    # that cost alone (a cmdlet writing as many ready-made objects), the floor of the row above.
    Measure-Row -Name '  the same into $null (no Out-Null)' -Ours '$null = Find-KernelSymbol' `
        -Anchor 'cat /proc/kallsyms' -AnchorSh 'cat /proc/kallsyms > /dev/null' -Goal '<= 1.5x' -Met { param($m, $r) $r -le 1.5 }
    # A compiled cmdlet that only calls WriteObject as often as there are lines, with objects made
    # before it runs: what any binary cmdlet pays to send that many objects into Out-Null.
    if (-not ('LkmBench.WriteReadyObjectsCommand' -as [type])) {
        Add-Type -TypeDefinition @'
namespace LkmBench {
    [System.Management.Automation.Cmdlet("Write", "ReadyObjects")]
    public sealed class WriteReadyObjectsCommand : System.Management.Automation.PSCmdlet {
        [System.Management.Automation.Parameter(Position = 0)] public int Count { get; set; }
        private static object[] _ready = new object[0];
        protected override void EndProcessing() {
            if (_ready.Length != Count) { _ready = new object[Count]; for (var i = 0; i < Count; i++) _ready[i] = new System.Version(1, i); }
            foreach (var o in _ready) WriteObject(o);
        }
    }
}
'@ -PassThru | Select-Object -First 1 | ForEach-Object { Import-Module $_.Assembly }
    }
    Measure-Row -Name "  PowerShell alone: $kallsymsLines ready objects | Out-Null" -Ours "Write-ReadyObjects $kallsymsLines | Out-Null" -NoPeak `
        -Anchor 'cat /proc/kallsyms' -AnchorSh 'cat /proc/kallsyms > /dev/null' -Goal '-' `
        -Note 'a compiled cmdlet writing that many ready-made objects, no file read: the floor of the | Out-Null row (its peak memory is not measured)'
    Measure-Row -Name "  PowerShell alone: $kallsymsLines ready objects into `$null" -Ours "`$null = Write-ReadyObjects $kallsymsLines" -NoPeak `
        -Anchor 'cat /proc/kallsyms' -AnchorSh 'cat /proc/kallsyms > /dev/null' -Goal '-' `
        -Note 'the same cmdlet with no downstream command: the floor of the $null row'
    $ourCount = @(Find-KernelSymbol 'tcp_v4_*').Count
    $grepCount = [int](& /bin/sh -c "grep -c ' tcp_v4_' /proc/kallsyms")
    Measure-Row -Name "Find-KernelSymbol 'tcp_v4_*'" -Ours "Find-KernelSymbol 'tcp_v4_*' | Out-Null" `
        -Anchor "grep ' tcp_v4_'" -AnchorSh "grep ' tcp_v4_' /proc/kallsyms > /dev/null" -Goal '<= 1.0x' -Met { param($m, $r) $r -le 1.0 } `
        -Note "ours $ourCount symbols, grep $grepCount lines"
    # Memory independent of the number of lines: the same enumeration over a file three times as long.
    $big = Join-Path $scratch 'kallsyms3'
    New-Item -ItemType Directory -Force (Join-Path $big 'proc') | Out-Null
    & /bin/sh -c "cat /proc/kallsyms /proc/kallsyms /proc/kallsyms > '$big/proc/kallsyms'"
    Measure-Row -Name 'Find-KernelSymbol, kallsyms 3x as long (-Root copy)' -Ours "Find-KernelSymbol -Root '$big' | Out-Null" `
        -Anchor 'cat (the 3x file)' -AnchorSh "cat '$big/proc/kallsyms' > /dev/null" -Goal 'peak ~ 1x row' `
        -Note "$(3 * $kallsymsLines) lines"
    $one = $rows[$rows.Count - 6].'Peak MiB'; $three = $rows[$rows.Count - 1].'Peak MiB'   # the 1x row, before the $null, two floor and grep rows
    $rows[$rows.Count - 1].Met = if ($three -le 1.1 * $one) { 'yes' } else { 'NO' }
    $notes.Add("memory vs lines: peak $one MiB over $kallsymsLines lines, $three MiB over $(3 * $kallsymsLines) (met when within 10%)")
    }

    # --- depmod: Update-ModuleDependency against kmod's depmod on the same scratch copy ----------
    foreach ($fl in (Select-Section Depmod $flavours)) {
        $f = $fixtures[$fl]; $v = $f.Version
        $root = Join-Path $scratch "depmod-$fl"
        New-Item -ItemType Directory -Force $root | Out-Null
        & cp -al (Join-Path $f.Root 'lib') $root
        if ($LASTEXITCODE -ne 0) { throw "cp -al of $($f.Root)/lib failed" }
        $dir = Join-Path $root "lib/modules/$v"
        $cache = Join-Path $root "var/cache/lkmpowershell/depmod/$v/modules.lkmpowershell.cache"
        # The module that 'changes': its own inode in the copy, so its time stamp is ours to move.
        $one = Get-ChildItem -Recurse -File (Join-Path $dir 'kernel/drivers/net') -Filter 'dummy.ko*' | Select-Object -First 1
        Copy-Item -LiteralPath $one.FullName "$($one.FullName).tmp"
        Move-Item -LiteralPath "$($one.FullName).tmp" $one.FullName -Force
        $touch = { param($n) [IO.File]::SetLastWriteTimeUtc($one.FullName, [DateTime]::UtcNow.AddSeconds($n)) }
        $update = [scriptblock]::Create("Update-ModuleDependency -Root '$root' -KernelVersion '$v'")

        $kmodMs = @(); $kmodPeak = 0
        $k = Measure-Peak @('depmod', '-b', $root, $v); $kmodPeak = $k.PeakMiB   # also warms the page cache
        $kmodHashes = Get-Hashes $dir
        for ($i = 0; $i -lt $Runs; $i++) { $kmodMs += Measure-Sh "depmod -b '$root' '$v'" }
        Assert-SameOutput $dir $kmodHashes
        # xz: what decompressing every module on both cores costs alone (liblzma through xz), the
        # floor under a depmod with no cache, timed in the same run.
        $floorMs = @()
        if ($fl -eq 'xz') {
            $xzList = Join-Path $scratch 'depmod-xz.list0'
            [IO.File]::WriteAllText($xzList, ((@(& find $dir -name '*.ko.xz') -join "`0") + "`0"))
            for ($i = 0; $i -lt $Runs; $i++) { $floorMs += Measure-Sh "xargs -0 -a '$xzList' -P2 -n 64 xz -dc > /dev/null" }
        }

        # No cache, in this session: the first call is also the first depmod of the session.
        $cold = @(for ($i = 0; $i -le $Runs; $i++) {
                Remove-Item $cache -ErrorAction SilentlyContinue
                (Measure-Command $update).TotalMilliseconds
                Assert-SameOutput $dir $kmodHashes
            })
        # One module changed, the cache of the previous run present.
        $changed = @(for ($i = 0; $i -le $Runs; $i++) {
                & $touch ($i + 1)
                (Measure-Command $update).TotalMilliseconds
                Assert-SameOutput $dir $kmodHashes
            })
        # One module rewritten with other facts (one alias changed): the files are rendered and
        # written again from the cached facts of the others. Outputs then differ from kmod's on
        # purpose; the original is put back and checked against kmod's after the row.
        $original = [IO.File]::ReadAllBytes($one.FullName)
        $plainBytes = if ($fl -eq 'xz') { $t = Join-Path $scratch 'variant.ko'; & /bin/sh -c "xz -dc '$($one.FullName)' > '$t'"; [IO.File]::ReadAllBytes($t) } else { $original }
        $at = [Text.Encoding]::Latin1.GetString($plainBytes).IndexOf('alias=rtnl-link-dummy')
        if ($at -lt 0) { throw "no alias to change in $($one.FullName)" }
        $patched = [byte[]]$plainBytes.Clone(); $patched[$at + 20] = [byte][char]'z'
        $variant = if ($fl -eq 'xz') { [IO.File]::WriteAllBytes($t, $patched); & /bin/sh -c "xz -z --check=crc32 -c '$t' > '$t.xz'"; [IO.File]::ReadAllBytes("$t.xz") } else { $patched }
        $other = @(for ($i = 0; $i -le $Runs; $i++) {
                [IO.File]::WriteAllBytes($one.FullName, $(if ($i % 2) { $original } else { $variant }))
                (Measure-Command $update).TotalMilliseconds
            })
        [IO.File]::WriteAllBytes($one.FullName, $original)
        & $update
        Assert-SameOutput $dir $kmodHashes
        & $touch 100
        $changedPeak = (Measure-Peak (Get-PwshCommand "Update-ModuleDependency -Root '$root' -KernelVersion '$v'")).PeakMiB
        Assert-SameOutput $dir $kmodHashes
        # No cache, the first call in a fresh process: the process's wall time and the cmdlet's own.
        $procMs = @(); $cmdMs = @(); $procPeak = 0
        for ($i = 0; $i -le $Runs; $i++) {
            Remove-Item $cache -ErrorAction SilentlyContinue
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $p = Measure-Peak (Get-PwshCommand "`$sw = [Diagnostics.Stopwatch]::StartNew(); Update-ModuleDependency -Root '$root' -KernelVersion '$v'; 'LKMCMD ' + `$sw.Elapsed.TotalMilliseconds")
            $procMs += $sw.Elapsed.TotalMilliseconds
            $cmdMs += [double](($p.Output | Where-Object { $_ -like 'LKMCMD *' } | Select-Object -Last 1).Split(' ')[1])
            $procPeak = [Math]::Max($procPeak, $p.PeakMiB)
            Assert-SameOutput $dir $kmodHashes
        }
        Add-Row -Name "Update-ModuleDependency, one module changed ($fl)" -First $changed[0] -Later $changed[1..$Runs] `
            -Anchor 'depmod -b ROOT VER' -AnchorMs $kmodMs -Goal '<= 50 ms' -Met { param($m) $m -le 50 } `
            -OursPeak $changedPeak -AnchorPeak $kmodPeak -Note 'outputs identical to kmod every run'
        Add-Row -Name "  one module rewritten with another alias ($fl)" -First $other[0] -Later $other[1..$Runs] `
            -Anchor 'depmod -b ROOT VER' -AnchorMs $kmodMs -Goal '-' -AnchorPeak $kmodPeak -Note 'facts changed: rendered and written again, the other modules from the cache'
        Add-Row -Name "  no cache, in this session ($fl)" -First $cold[0] -Later $cold[1..$Runs] `
            -Anchor 'depmod -b ROOT VER' -AnchorMs $kmodMs -Goal '-' -AnchorPeak $kmodPeak -Note 'first = first depmod of the session'
        Add-Row -Name "  no cache, first call in a fresh process ($fl)" -First $cmdMs[0] -Later $cmdMs[1..$Runs] `
            -Anchor 'depmod -b ROOT VER' -AnchorMs $kmodMs -Goal '<= 0.5x' -Met { param($m, $r) $r -le 0.5 } `
            -OursPeak $procPeak -AnchorPeak $kmodPeak -Note 'the cmdlet alone, each run its own process'
        if ($floorMs) {
            Add-Row -Name "  the same against the decompression floor ($fl)" -First $cmdMs[0] -Later $cmdMs[1..$Runs] `
                -Anchor 'xargs -P2 xz -dc' -AnchorMs $floorMs -Goal '-' -Note 'what decompressing every module on both cores costs alone, in the same run'
        }
        Add-Row -Name "  the same, whole dotnet pwsh -c process ($fl)" -First $procMs[0] -Later $procMs[1..$Runs] `
            -Anchor 'depmod -b ROOT VER' -AnchorMs $kmodMs -Goal '-' -OursPeak $procPeak -AnchorPeak $kmodPeak
        Remove-Item -Recurse -Force $root
    }

    # --- A fresh process that imports the module and lists one installed module ----------------
    if ($Section -contains 'Fresh') {
    $f = $fixtures[$flavours[0]]
    $list1 = "Get-KernelModule -ListAvailable -Root '$($f.Root)' -KernelVersion '$($f.Version)' -Name msdos | Out-Null"
    $fresh = @(); $bare = @(); $modinfo = @(); $freshPeak = 0
    for ($i = 0; $i -le $Runs; $i++) {
        $sw = [Diagnostics.Stopwatch]::StartNew(); $p = Measure-Peak (Get-PwshCommand $list1)
        $fresh += $sw.Elapsed.TotalMilliseconds; $freshPeak = [Math]::Max($freshPeak, $p.PeakMiB)
    }
    for ($i = 0; $i -lt $Runs; $i++) { $bare += Measure-Sh 'dotnet pwsh -NoProfile -NonInteractive -Command exit' }
    $barePeak = (Measure-Peak @('dotnet', 'pwsh', '-NoProfile', '-NonInteractive', '-Command', 'exit')).PeakMiB
    for ($i = 0; $i -lt $Runs; $i++) { $modinfo += Measure-Sh "modinfo -b '$($f.Root)' -k '$($f.Version)' msdos > /dev/null" }
    Add-Row -Name "fresh dotnet pwsh -c: import, list one module (msdos, $($flavours[0]))" -First $fresh[0] -Later $fresh[1..$Runs] `
        -Anchor 'dotnet pwsh -c exit' -AnchorMs $bare -Goal 'measure' -OursPeak $freshPeak -AnchorPeak $barePeak
    Add-Row -Name '  the same against kmod' -First $fresh[0] -Later $fresh[1..$Runs] `
        -Anchor 'modinfo -b ROOT -k VER msdos' -AnchorMs $modinfo -Goal 'measure' -OursPeak $freshPeak
    }
}
finally {
    Pop-Location
    Remove-Item -Recurse -Force $scratch -ErrorAction SilentlyContinue
}
$sessionPeak = (Get-Process -Id $PID).PeakWorkingSet64 / 1MB
$rows | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
$notes | ForEach-Object { Write-Host "- $_" }
Write-Host ("First = the first call of that row in this session (run 1); Median = median of the {0} run(s) after it; anchors: median of {0} whole processes. Ratio = ours median / anchor median. Peak MiB = max RSS of one 'dotnet pwsh -c' process doing the row once (pwsh included: see the fresh-process row); this session's peak working set: {1:N0} MiB." -f $Runs, $sessionPeak)
Write-Host "Load average at the end: $((Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ')"
