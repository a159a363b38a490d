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
