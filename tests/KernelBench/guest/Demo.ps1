# The main job's story, run inside Debian's kernel under QEMU by 'build.ps1 Demo'.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'   # a serial console, not a terminal
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
Import-Module (Join-Path $repo 'LkmPowerShell.psd1')
function Step($text) { Write-Host "`n=== $text" -ForegroundColor Cyan }
function Show($value) { $value | Format-Table -AutoSize | Out-String -Width 150 | Write-Host }

Step "A real kernel: $(uname -r). What is loaded (Get-KernelModule, lsmod as objects):"
Show (Get-KernelModule)

Step 'Import-KernelModule -Path msdos.ko, without fat loaded: refused, with the reason'
$msdos = Get-KernelModule -ListAvailable msdos
try { Import-KernelModule -Path $msdos.Path -ErrorAction Stop }
catch { Write-Host "$($_.FullyQualifiedErrorId):`n  $($_.Exception.Message)" -ForegroundColor Yellow }
Write-Host "(kmod's insmod says: $(insmod $msdos.Path 2>&1))"

Step 'Who provides what msdos needs? (Get-KernelModule -ListAvailable msdos | Find-KernelSymbol -Undefined)'
Show ($msdos | Find-KernelSymbol -Undefined | Where-Object ProviderKind -NE 'Kernel' | Select-Object -First 8 Name, ProviderKind, Module)

Step 'Import-KernelModule msdos -Verbose: by name, fat comes first'
Import-KernelModule msdos -Verbose
Show (Get-KernelModule fat, msdos)

Step 'Remove-KernelModule fat: refused, msdos uses it'
try { Remove-KernelModule fat -ErrorAction Stop }
catch { Write-Host "$($_.FullyQualifiedErrorId):`n  $($_.Exception.Message)" -ForegroundColor Yellow }

Step 'Remove-KernelModule msdos -RemoveUnusedDependency -Verbose: both go'
Remove-KernelModule msdos -RemoveUnusedDependency -Verbose
$left = Get-KernelModule fat, msdos -ErrorAction SilentlyContinue
Write-Host "Loaded afterwards: $(if ($left) { $left.Name -join ', ' } else { 'neither fat nor msdos' })"

Step 'A chain that fails is rolled back: snd-dummy with a bad parameter'
$before = (Get-KernelModule).Count
try { Import-KernelModule snd-dummy -Parameters 'pcm_devs=oops' -ErrorAction Stop }
catch { Write-Host "$($_.FullyQualifiedErrorId):`n  $($_.Exception.Message)" -ForegroundColor Yellow }
Write-Host "Modules loaded before: $before, after: $((Get-KernelModule).Count)"

Step 'Security audit (Test-KernelModule, MITRE ATT&CK T1547.006): the guest as booted, only Debian''s signed modules'
$above = Test-KernelModule | Where-Object Severity -gt Informational
Write-Host "Findings above Informational: $(if ($above) { @($above).Count } else { 'none' })"
Show (Test-KernelModule -Summary | Select-Object KernelRelease, Taint, @{ n = 'Audited'; e = { $_.ModulesAudited.Count } }, HighestSeverity, IsClean)
Show (Test-KernelModule -Name overlay, 9p | Select-Object Subject, Message)

$km = $env:LKMBENCH_TESTMODULES
if ($km -and (Test-Path -LiteralPath (Join-Path $km 'lkmaudit_hide.ko'))) {
    Step 'insmod an ordinary unsigned out-of-tree module, and one that unlinks itself from the module list as rootkits do'
    insmod (Join-Path $km 'lkmaudit_plain.ko')
    insmod (Join-Path $km 'lkmaudit_hide.ko')
    Write-Host "kmod's lsmod sees:"
    lsmod | Select-String -Pattern '^Module|lkmaudit' | ForEach-Object { Write-Host "  $_" }
    Write-Host "(no lkmaudit_hide: lsmod reads /proc/modules, which no longer lists it)"

    Step 'Test-KernelModule sees both'
    Show (Test-KernelModule | Where-Object Severity -gt Informational | Select-Object Severity, Check, Subject, Message)
    Step 'The hidden module, with its evidence'
    Test-KernelModule -Name lkmaudit_hide | Where-Object Check -EQ HiddenFromModuleList | Format-List | Out-String -Width 150 | Write-Host
} else {
    Write-Host "(the audit's test modules were not built for this kernel: LKMBENCH_TESTMODULES='$km')" -ForegroundColor Yellow
}
