# The main job's story, run inside Debian's kernel under QEMU by 'build.ps1 Demo'.
# What the cmdlets can do today is done with them; the write side (Import-KernelModule,
# Remove-KernelModule) is not built yet, so those steps use kmod's own tools and say so.
$ErrorActionPreference = 'Stop'
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
Import-Module (Join-Path $repo 'LkmPowerShell.psd1')
function Step($text) { Write-Host "`n=== $text" -ForegroundColor Cyan }

Step "The kernel: $(uname -r); modules installed under /lib/modules/$(uname -r)"
Get-KernelModule | Format-Table -AutoSize | Out-String | Write-Host

Step 'What does msdos.ko need that the running kernel does not export? (Get-KernelModule -ListAvailable msdos | Find-KernelSymbol -Undefined)'
$msdos = Get-KernelModule -ListAvailable msdos
$missing = $msdos | Find-KernelSymbol -Undefined | Where-Object ProviderKind -NE 'Kernel'
$missing | Format-Table Name, ProviderKind, Module, ProviderPath -AutoSize | Out-String | Write-Host
$providers = $missing | Where-Object ProviderKind -EQ 'ModuleFile' | Select-Object -ExpandProperty Module -Unique
Write-Host "msdos needs $(@($missing).Count) symbols no loaded module exports, e.g. $(@($missing)[0].Name); they are exported by $($providers -join ', ').ko (not loaded)."
Write-Host 'Import-KernelModule -Path would refuse it with exactly this explanation: not built yet (the write-side issue).' -ForegroundColor Yellow

Step "modinfo, as an object: Get-KernelModule -ListAvailable msdos | Format-List"
$msdos | Format-List | Out-String | Write-Host

Step 'Loading by name: Import-KernelModule is not built yet, so kmod''s modprobe msdos stands in (it loads fat first)'
modprobe msdos
Get-KernelModule fat, msdos | Format-Table -AutoSize | Out-String | Write-Host
Write-Host "fat is used by: $((Get-KernelModule fat).UsedBy -join ', ')"

Step 'Which module owns fat_time_unix2fat now? (Find-KernelSymbol over /proc/kallsyms)'
Find-KernelSymbol fat_time_unix2fat | Format-Table -AutoSize | Out-String | Write-Host

Step 'Removing: Remove-KernelModule is not built yet; kmod refuses fat while msdos uses it, then modprobe -r msdos removes both'
rmmod fat 2>&1 | Write-Host
modprobe -r msdos
$left = Get-KernelModule fat, msdos -ErrorAction SilentlyContinue
Write-Host "Loaded afterwards: $(if ($left) { $left.Name -join ', ' } else { 'neither fat nor msdos' })"
