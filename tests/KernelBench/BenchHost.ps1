# Host-side helpers of the kernel bench, dot-sourced by Invoke-KernelBench.ps1.
# Nothing here loads, lists or unloads modules on the host: kmod is used only as
# `modprobe -d ROOT -S VERSION --show-depends` (a read of the module tree in the fixtures cache).

$script:BenchUser = 'lkmuser'
$script:BenchUid = 4242
$script:GuestResults = '/lkmbench/results'
$script:GuestPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

function ConvertTo-ShQuoted([string] $Text) {
    "'" + ($Text -replace "'", "'\''") + "'"
}

function Test-BenchStaticElf([string] $Path) {
    # True when the ELF file has no PT_INTERP program header (a static executable).
    $b = [IO.File]::ReadAllBytes($Path)
    if ($b.Length -lt 64 -or $b[0] -ne 0x7F -or $b[1] -ne 0x45 -or $b[4] -ne 2) { return $false }
    $phoff = [BitConverter]::ToUInt64($b, 0x20); $phentsize = [BitConverter]::ToUInt16($b, 0x36); $phnum = [BitConverter]::ToUInt16($b, 0x38)
    for ($i = 0; $i -lt $phnum; $i++) {
        $o = [int]($phoff + $i * $phentsize)
        if ([BitConverter]::ToUInt32($b, $o) -eq 3) { return $false }
    }
    $true
}

function Get-BenchStaticBusybox {
    foreach ($p in '/usr/bin/busybox', '/bin/busybox', '/usr/lib/initramfs-tools/bin/busybox') {
        if ((Test-Path -LiteralPath $p) -and (Test-BenchStaticElf $p)) { return $p }
    }
    $null
}

function Assert-BenchTool {
    # The tools the bench needs, and the Debian package that provides each. build.ps1 has
    # tests/fixtures/get-debian-kernels.sh --bench-tools install the same ones with the headers.
    $need = [ordered]@{}
    if (-not (Get-Command qemu-system-x86_64 -CommandType Application -ErrorAction Ignore)) { $need['qemu-system-x86'] = 'qemu-system-x86_64' }
    if (-not (Get-BenchStaticBusybox)) { $need['busybox-static'] = 'a static busybox' }
    if (-not (Get-Command cpio -CommandType Application -ErrorAction Ignore)) { $need['cpio'] = 'cpio' }
    if (-not (Get-Command modprobe -CommandType Application -ErrorAction Ignore) -and -not (Test-Path /usr/sbin/modprobe)) { $need['kmod'] = 'modprobe (kmod)' }
    if (-not (Get-Command xz -CommandType Application -ErrorAction Ignore)) { $need['xz-utils'] = 'xz' }
    if (-not (Get-Command gzip -CommandType Application -ErrorAction Ignore)) { $need['gzip'] = 'gzip' }
    if ($need.Count -eq 0) { return }

    $pkgs = @($need.Keys)
    $what = ($need.GetEnumerator() | ForEach-Object { "$($_.Value) (package $($_.Key))" }) -join ', '
    $isRoot = (id -u) -eq '0'
    if (-not (Get-Command apt-get -ErrorAction Ignore)) {
        throw "Bench: missing $what, and this machine has no apt-get to install them. Install them with the system's package manager."
    }
    if (-not $isRoot) {
        throw "Bench: missing $what. Install them first: sudo apt-get update && sudo apt-get install -y $($pkgs -join ' ')"
    }
    Write-Host "Bench: installing $($pkgs -join ' ') (missing: $what)"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    # Wait for another apt run's dpkg lock (a fresh machine often has one) instead of failing.
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    if ($LASTEXITCODE) { throw "Bench: apt-get update failed ($LASTEXITCODE); cannot install $($pkgs -join ' ')." }
    # Without the recommended packages: qemu-system-x86's (the GUI, the block back-ends) pull in
    # gstreamer, SDL, GTK and ceph's libraries, minutes of apt, and the bench needs none of them.
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends @pkgs
    if ($LASTEXITCODE) { throw "Bench: apt-get install $($pkgs -join ' ') failed ($LASTEXITCODE)." }
    if (-not (Get-BenchStaticBusybox)) { throw 'Bench: busybox-static is installed but no static busybox was found in /usr/bin.' }
}

function Get-BenchFixtureRoot {
    if ($env:LKM_FIXTURES) { $env:LKM_FIXTURES } else { '/var/cache/lkmpowershell' }
}

function Get-BenchKernel([string] $FixtureRoot, [string] $Flavour) {
    $list = Join-Path $FixtureRoot 'kernels.txt'
    $fix = "Run the fixtures script first (as root, it uses apt-get): sudo tests/fixtures/get-debian-kernels.sh" +
        " (set LKM_FIXTURES to use another cache than /var/cache/lkmpowershell)."
    if (-not (Test-Path -LiteralPath $list)) { throw "Bench: no kernel fixtures: $list does not exist. $fix" }
    $found = @{}
    foreach ($line in Get-Content -LiteralPath $list) {
        $f = -split $line
        if ($f.Count -eq 2) { $found[$f[0]] = $f[1] }
    }
    $want = if ($Flavour -eq 'all') { 'plain', 'xz' } else { , $Flavour }
    foreach ($w in $want) {
        if (-not $found.ContainsKey($w)) { throw "Bench: $list names no '$w' kernel. $fix" }
        $ver = $found[$w]
        $root = Join-Path $FixtureRoot "$ver/root"
        $vmlinuz = Join-Path $root "boot/vmlinuz-$ver"
        $modDir = Join-Path $root "lib/modules/$ver"
        if (-not (Test-Path -LiteralPath $vmlinuz)) { throw "Bench: the $w kernel $ver has no $vmlinuz. $fix" }
        if (-not (Test-Path -LiteralPath (Join-Path $modDir 'modules.dep.bin'))) { throw "Bench: the $w kernel $ver has no modules.dep.bin in $modDir (depmod did not run). $fix" }
        [pscustomobject]@{ Flavour = $w; Version = $ver; Root = $root; Vmlinuz = $vmlinuz; ModuleDirectory = $modDir }
    }
}

function Test-BenchWritable([string] $Path) {
    try {
        $null = New-Item -ItemType Directory -Force -Path $Path -ErrorAction Stop
        $probe = Join-Path $Path ".probe-$PID"
        [IO.File]::WriteAllText($probe, 'x'); [IO.File]::Delete($probe)
        $true
    } catch { $false }
}

function Get-BenchCacheDirectory([string] $FixtureRoot) {
    $c = Join-Path $FixtureRoot 'bench'
    if (Test-BenchWritable $c) { return $c }
    $base = if ($env:XDG_CACHE_HOME) { $env:XDG_CACHE_HOME } else { Join-Path $HOME '.cache' }
    $c = Join-Path $base 'lkmpowershell-bench'
    if (Test-BenchWritable $c) { return $c }
    throw "Bench: cannot write the initramfs cache in $FixtureRoot/bench nor in $c."
}

function Assert-BenchSpace([string] $Path, [int] $MinimumMB, [string] $What) {
    $p = $Path
    while ($p -and -not (Test-Path -LiteralPath $p)) { $p = Split-Path -Parent $p }
    $df = @(df -Pk -- $p 2>$null)
    if ($df.Count -ge 2) {
        $availMB = [long](-split $df[-1])[3] / 1024
        if ($availMB -lt $MinimumMB) {
            throw ("Bench: not enough disk space for {0} ({1}): {2:n0} MB free, at least {3} MB needed. Free some space (e.g. old {1}/* or /tmp) and retry." -f $What, $Path, $availMB, $MinimumMB)
        }
    }
}

function Get-BenchDotnetRoot {
    $candidates = @()
    if ($env:DOTNET_ROOT) { $candidates += $env:DOTNET_ROOT }
    # <root>/shared/Microsoft.NETCore.App/<version>/ is where this pwsh's runtime lives.
    $rt = [Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()
    $candidates += [IO.Path]::GetFullPath((Join-Path $rt '../../..'))
    $candidates += '/usr/share/dotnet', '/usr/lib/dotnet'
    foreach ($c in $candidates) {
        if (Test-Path -LiteralPath (Join-Path $c 'dotnet') -PathType Leaf) { return $c.TrimEnd('/') }
    }
    throw "Bench: cannot find the dotnet host (tried $($candidates -join ', ')). Set DOTNET_ROOT."
}

function Get-BenchPesterModulePath([string] $RepoRoot, [string] $CacheDirectory) {
    $version = '6.2.0'
    $repoModules = Join-Path $RepoRoot 'out/Modules'
    if (Test-Path -LiteralPath (Join-Path $repoModules "Pester/$version/Pester.psd1")) { return $repoModules }
    $cacheModules = Join-Path $CacheDirectory 'Modules'
    $target = Join-Path $cacheModules "Pester/$version"
    if (Test-Path -LiteralPath (Join-Path $target 'Pester.psd1')) { return $cacheModules }

    Write-Host "Bench: restoring Pester $version from NuGet (the main build will provide out/Modules/Pester later)"
    $tmp = Join-Path ([IO.Path]::GetTempPath()) ("lkmbench-pester-" + [Guid]::NewGuid().ToString('n').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $tmp
    try {
        @"
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$version]" /></ItemGroup>
</Project>
"@ | Set-Content -LiteralPath (Join-Path $tmp 'PesterDownload.proj')
        $dotnet = Join-Path (Get-BenchDotnetRoot) 'dotnet'
        & $dotnet restore (Join-Path $tmp 'PesterDownload.proj') --nologo -v quiet | Out-Host
        $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else {
            ((& $dotnet nuget locals global-packages -l) -replace '^global-packages:\s*', '').Trim()
        }
        $tools = Join-Path $packages "pester/$version/tools"
        if (-not (Test-Path -LiteralPath (Join-Path $tools 'Pester.psd1'))) { throw "Bench: restoring Pester $version did not produce $tools/Pester.psd1." }
        $staging = "$target.tmp-$PID"
        $null = New-Item -ItemType Directory -Force -Path $staging
        Copy-Item -Path (Join-Path $tools '*') -Destination $staging -Recurse -Force
        if (Test-Path -LiteralPath $target) { Remove-Item -LiteralPath $target -Recurse -Force }
        Move-Item -LiteralPath $staging -Destination $target
    } finally {
        Remove-Item -LiteralPath $tmp -Recurse -Force -ErrorAction SilentlyContinue
    }
    $cacheModules
}

function Get-BenchGuestModuleFile($Kernel, [string[]] $Name = @('virtio_pci', '9pnet_virtio', '9p', 'overlay', 'virtio_blk', 'ext4')) {
    # The modules /init loads before it can reach the host: whatever kmod says 9p, 9pnet_virtio,
    # virtio_pci, overlay, virtio_blk and ext4 need on this kernel (built-in ones are skipped), in
    # kmod's order (virtio_blk and ext4 read the module tree's disk image, Get-BenchModuleImage).
    # Also asked for virtio_net, which /init loads only for a boot with a network (a fleet boot).
    $modprobe = @(Get-Command modprobe -CommandType Application -ErrorAction Ignore)[0]?.Source
    if (-not $modprobe) { $modprobe = '/usr/sbin/modprobe' }
    $files = [Collections.Generic.List[string]]::new()
    foreach ($m in $Name) {
        $out = & $modprobe -d (Join-Path $Kernel.Root '') -S $Kernel.Version --show-depends $m 2>&1
        if ($LASTEXITCODE) { throw "Bench: kmod cannot resolve '$m' in $($Kernel.ModuleDirectory): $out" }
        foreach ($line in $out) {
            if ("$line" -match '^insmod\s+(\S+)') {
                if (-not $files.Contains($Matches[1])) { $files.Add($Matches[1]) }
            }
        }
    }
    $files
}

function Get-BenchModuleImage($Kernel, [string] $CacheDirectory) {
    # The kernel's module tree as a read-only ext4 disk for the guest (virtio-blk), the lower layer
    # of its /lib/modules/<version>. Over 9p every stat and open is a round trip to the host, slow
    # under emulation: one stat of each of the 6.1 tree's 4,000 modules took 177 s cold and 80 s
    # warm over 9p, and the guest's depmod run over the tree 337 s. Made once per fixture tree with
    # mke2fs -d (a few seconds; times and owners kept), cached beside the initramfs.
    $dep = Get-Item -LiteralPath (Join-Path $Kernel.ModuleDirectory 'modules.dep')
    $ready = Join-Path (Split-Path -Parent $Kernel.Root) '.ready'
    $stamp = if (Test-Path -LiteralPath $ready) { (Get-Content -Raw -LiteralPath $ready).Trim() } else { '' }
    $keyText = "$($Kernel.ModuleDirectory) $stamp $($dep.Length) $($dep.LastWriteTimeUtc.Ticks)"
    $key = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($keyText))).Substring(0, 16).ToLowerInvariant()
    $dir = Join-Path $CacheDirectory $Kernel.Version
    $file = Join-Path $dir "modtree-$key.ext4"
    if ($file -match ',') { throw "Bench: the module image path '$file' contains a comma, which QEMU's -drive cannot take." }
    if (Test-Path -LiteralPath $file) { Write-Host "Bench: module tree image (cached) $file"; return $file }
    $mke2fs = @(Get-Command mke2fs -CommandType Application -ErrorAction Ignore)[0]?.Source
    if (-not $mke2fs) { throw 'Bench: mke2fs is missing (Debian package e2fsprogs): it makes the module tree disk image for the guests.' }
    $null = New-Item -ItemType Directory -Force -Path $dir
    $bytes = (Get-ChildItem -LiteralPath $Kernel.ModuleDirectory -Recurse -File -Force | Measure-Object -Property Length -Sum).Sum
    # Room for ext4's metadata and the 4 KiB blocks small files round up to.
    $sizeMB = [long][math]::Ceiling($bytes * 1.3 / 1MB) + 64
    $tmp = "$file.tmp-$PID"
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $log = & $mke2fs -q -F -t ext4 -O '^has_journal' -m 0 -L lkmmodules -d $Kernel.ModuleDirectory $tmp "${sizeMB}M" 2>&1
    if ($LASTEXITCODE) { Remove-Item -LiteralPath $tmp -Force -ErrorAction SilentlyContinue; throw "Bench: mke2fs -d $($Kernel.ModuleDirectory) failed ($LASTEXITCODE): $($log -join ' ')" }
    # Keep only images of this kernel made in the last day (another checkout may boot its own).
    Get-ChildItem -LiteralPath $dir -Filter 'modtree-*.ext4' | Where-Object LastWriteTimeUtc -LT ([datetime]::UtcNow.AddDays(-1)) | Remove-Item -Force
    Move-Item -LiteralPath $tmp -Destination $file -Force
    Write-Host ("Bench: built module tree image {0} ({1:n0} MB) in {2:n1} s" -f $file, $sizeMB, $sw.Elapsed.TotalSeconds)
    $file
}

function Get-BenchInitramfs($Kernel, [string] $CacheDirectory, [string] $InitScript) {
    $busybox = Get-BenchStaticBusybox
    $modules = @(Get-BenchGuestModuleFile $Kernel)
    # The network driver for fleet boots: its own list (order-net), without what the first list loads.
    $netModules = @(Get-BenchGuestModuleFile $Kernel -Name 'virtio_net' | Where-Object { $_ -notin $modules })
    # Cache key: the init script, busybox, and the module files (path, size, mtime).
    $keyText = [Text.StringBuilder]::new()
    $null = $keyText.AppendLine((Get-FileHash -LiteralPath $InitScript -Algorithm SHA256).Hash)
    $null = $keyText.AppendLine((Get-FileHash -LiteralPath $busybox -Algorithm SHA256).Hash)
    foreach ($m in $modules) { $i = Get-Item -LiteralPath $m; $null = $keyText.AppendLine("$m $($i.Length) $($i.LastWriteTimeUtc.Ticks)") }
    foreach ($m in $netModules) { $i = Get-Item -LiteralPath $m; $null = $keyText.AppendLine("net $m $($i.Length) $($i.LastWriteTimeUtc.Ticks)") }
    $key = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($keyText.ToString()))).Substring(0, 16).ToLowerInvariant()
    $dir = Join-Path $CacheDirectory $Kernel.Version
    $file = Join-Path $dir "initramfs-$key.cpio.gz"
    if (Test-Path -LiteralPath $file) { Write-Host "Bench: initramfs (cached) $file"; return $file }

    $null = New-Item -ItemType Directory -Force -Path $dir
    $tree = Join-Path $dir "tree.tmp-$PID"
    if (Test-Path -LiteralPath $tree) { Remove-Item -LiteralPath $tree -Recurse -Force }
    try {
        $null = New-Item -ItemType Directory -Force -Path "$tree/bin", "$tree/modules"
        Copy-Item -LiteralPath $busybox -Destination "$tree/bin/busybox"
        $null = New-Item -ItemType SymbolicLink -Path "$tree/bin/sh" -Target 'busybox'
        Copy-Item -LiteralPath $InitScript -Destination "$tree/init"
        chmod 0755 "$tree/init" "$tree/bin/busybox"
        $unpack = {
            param([string[]] $List)
            foreach ($m in $List) {
                $name = Split-Path -Leaf $m
                switch -Regex ($name) {
                    '\.ko\.xz$' { $base = $name -replace '\.xz$'; sh -c "xz -dc $(ConvertTo-ShQuoted $m) > $(ConvertTo-ShQuoted "$tree/modules/$base")" }
                    '\.ko\.zst$' { $base = $name -replace '\.zst$'; sh -c "zstd -qdc $(ConvertTo-ShQuoted $m) > $(ConvertTo-ShQuoted "$tree/modules/$base")" }
                    '\.ko\.gz$' { $base = $name -replace '\.gz$'; sh -c "gzip -dc $(ConvertTo-ShQuoted $m) > $(ConvertTo-ShQuoted "$tree/modules/$base")" }
                    default { $base = $name; Copy-Item -LiteralPath $m -Destination "$tree/modules/$base" }
                }
                $base
            }
        }
        $order = @(& $unpack $modules)
        $netOrder = @(& $unpack $netModules)
        Set-Content -LiteralPath "$tree/modules/order" -Value $order
        Set-Content -LiteralPath "$tree/modules/order-net" -Value $netOrder
        $tmp = "$file.tmp-$PID"
        sh -c "cd $(ConvertTo-ShQuoted $tree) && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1 > $(ConvertTo-ShQuoted $tmp)"
        # Keep the cache small, but leave images another bench run on this machine may still boot
        # (a run of another checkout builds its own): only those older than a day go.
        Get-ChildItem -LiteralPath $dir -Filter 'initramfs-*.cpio.gz' | Where-Object LastWriteTimeUtc -LT ([datetime]::UtcNow.AddDays(-1)) | Remove-Item -Force
        Move-Item -LiteralPath $tmp -Destination $file
    } finally {
        Remove-Item -LiteralPath $tree -Recurse -Force -ErrorAction SilentlyContinue
    }
    Write-Host ("Bench: built initramfs {0} ({1:n0} KB; modules: {2}; for a network: {3})" -f $file, ((Get-Item $file).Length / 1KB), ($order -join ' '), ($netOrder -join ' '))
    $file
}

function New-BenchPwshCommand([string] $PwshDll, [string] $Script, [string[]] $Arguments) {
    $parts = @('exec', '"$DOTNET_ROOT/dotnet"', (ConvertTo-ShQuoted $PwshDll), '-NoLogo', '-NoProfile', '-NonInteractive',
        '-File', (ConvertTo-ShQuoted $Script)) + @($Arguments | ForEach-Object { ConvertTo-ShQuoted $_ })
    $parts -join ' '
}

function Get-BenchGuestEnvironment($Kernel, [string] $RepoRoot, [string] $DotnetRoot, [string] $PwshDll,
    [string] $PSModulePath, [string] $TestModules, [string] $SignatureCases) {
    # The sh lines that give a guest process the bench's environment: the guest command and the
    # fleet's SSH subsystem (pwsh -sshs) run with the same one.
    $q = { param($s) ConvertTo-ShQuoted $s }
    @(
        'export HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 LC_ALL=C.UTF-8'
        "export PATH=$(& $q $script:GuestPath)"
        "export DOTNET_ROOT=$(& $q $DotnetRoot)"
        # Tiered compilation off: pwsh and the module are precompiled, so it would only compile hot
        # methods a second time, which under TCG costs more than it saves. Two guests running the
        # RealKernel suite used 457 CPU-s with it and 397 without (205 s instead of 238 s).
        'export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_gcServer=0 DOTNET_TieredPGO=0 DOTNET_TieredCompilation=0'
        'export POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off NO_COLOR=1'
        $(if ($PSModulePath) { "export PSModulePath=$(& $q $PSModulePath)" } else { 'unset PSModulePath' })
        "export LKMBENCH=1 LKMBENCH_RESULTS=$(& $q $script:GuestResults) LKMBENCH_KERNEL=$(& $q $Kernel.Flavour) LKMBENCH_KVER=$(& $q $Kernel.Version)"
        "export LKMBENCH_USER=$(& $q $script:BenchUser) LKMBENCH_UID=$(& $q "$script:BenchUid") LKMBENCH_REPO=$(& $q $RepoRoot)"
        "export LKMBENCH_PWSH=$(& $q $PwshDll)"
        "export LKMBENCH_TESTMODULES=$(& $q $TestModules)"
        "export LKMBENCH_SIGCASES=$(& $q $SignatureCases)"
    )
}

function Get-BenchHostName($Kernel) { "lkmbench-$($Kernel.Flavour)" }

function Write-BenchRunFiles($Share, $Kernel, [string] $RepoRoot, [string] $DotnetRoot, [string] $PwshDll,
    [string[]] $ModulePaths, [string] $GuestCommand, [string[]] $ExtraPaths, [string] $TestModules, [string] $SignatureCases,
    [switch] $ModuleImage, [switch] $Network) {
    $q = { param($s) ConvertTo-ShQuoted $s }
    $lf = "`n"
    # run.env: read by the guest's /init (busybox sh) before it builds the guest's root.
    $runEnv = @(
        "LKMBENCH_KVER=$(& $q $Kernel.Version)"
        "LKMBENCH_MODTREE=$(& $q $Kernel.ModuleDirectory)"
        "LKMBENCH_MODIMAGE=$(if ($ModuleImage) { '1' } else { '0' })"
        "LKMBENCH_USER=$(& $q $script:BenchUser)"
        "LKMBENCH_UID=$(& $q "$script:BenchUid")"
        "LKMBENCH_HOSTNAME=$(& $q (Get-BenchHostName $Kernel))"
        "LKMBENCH_NET=$(if ($Network) { '1' } else { '0' })"
        "LKMBENCH_REACH=$(& $q ((Split-Path -Parent $PwshDll), $DotnetRoot, $RepoRoot + @($ModulePaths) -join ' '))"
        "LKMBENCH_BINDS=$(& $q ((@($RepoRoot, (Split-Path -Parent $PwshDll), $DotnetRoot) + @($ModulePaths) + @($ExtraPaths) |
            Where-Object { $_ -match '^/(tmp|run)/' } | Select-Object -Unique) -join ' '))"
    ) -join $lf
    [IO.File]::WriteAllText((Join-Path $Share '.bench/run.env'), $runEnv + $lf)

    # command.sh: run by /bin/sh inside the guest's root (chroot), as root.
    $cmd = @(
        '# Generated by tests/KernelBench/Invoke-KernelBench.ps1; runs inside the guest as root.'
        Get-BenchGuestEnvironment -Kernel $Kernel -RepoRoot $RepoRoot -DotnetRoot $DotnetRoot -PwshDll $PwshDll `
            -PSModulePath (@($ModulePaths) -join ':') -TestModules $TestModules -SignatureCases $SignatureCases
        "cd $(& $q $RepoRoot) || exit 90"
        'cut -d" " -f1 /proc/uptime > "$LKMBENCH_RESULTS/.bench/t-command"'
        $GuestCommand
    ) -join $lf
    [IO.File]::WriteAllText((Join-Path $Share '.bench/command.sh'), $cmd + $lf)
}

function Start-BenchQemu($Kernel, [string] $Initrd, [string] $Share, [string] $OutDir, [int] $TimeoutSeconds, [int] $MemoryMB, [int] $Cpus, [string] $CpuModel = 'Nehalem', [string] $KernelArguments, [string] $ModuleImage, [int] $SshPort) {
    if ($Share -match ',') { throw "Bench: the results share path '$Share' contains a comma, which QEMU's -virtfs cannot take." }
    $console = Join-Path $OutDir 'console.log'
    $null = New-Item -ItemType File -Force -Path $console
    $qemu = @(Get-Command qemu-system-x86_64 -CommandType Application)[0].Source
    # mitigations=off: the Nehalem model makes the guest kernel isolate its page tables (Meltdown)
    # and flush on every system call, which software emulation pays dearly for; nothing the tests
    # prove depends on it. Two guests ran the RealKernel suite in 279 CPU-s instead of 397.
    $qargs = @(
        '-accel', 'tcg', '-cpu', $CpuModel, '-m', "$MemoryMB", '-smp', "$Cpus",
        '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
        '-serial', "file:$console",
        '-kernel', $Kernel.Vmlinuz, '-initrd', $Initrd,
        '-append', ("console=ttyS0 quiet panic=-1 mitigations=off $KernelArguments".Trim()),
        '-virtfs', 'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap',
        '-virtfs', "local,path=$Share,mount_tag=results,security_model=none,multidevs=remap"
    )
    # The module tree's disk, /dev/vda in the guest (the only disk).
    if ($ModuleImage) { $qargs += '-drive', "file=$ModuleImage,if=none,id=modtree,format=raw,readonly=on", '-device', 'virtio-blk-pci,drive=modtree' }
    if ($SshPort) {
        # A fleet boot: user-mode networking, the guest's port 22 reachable on the host's loopback only.
        $qargs += '-netdev', "user,id=net0,hostfwd=tcp:127.0.0.1:$SshPort-:22", '-device', 'virtio-net-pci,netdev=net0'
    }
    $psi = [Diagnostics.ProcessStartInfo]::new($qemu)
    foreach ($a in $qargs) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $p = [Diagnostics.Process]::Start($psi)
    $p.StandardInput.Close()
    $fs = [IO.FileStream]::new($console, [IO.FileMode]::Open, [IO.FileAccess]::Read, [IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete)
    [pscustomobject]@{
        Kernel = $Kernel; Process = $p; Stopwatch = $sw; OutDir = $OutDir; Share = $Share
        OutTask = $p.StandardOutput.ReadToEndAsync(); ErrTask = $p.StandardError.ReadToEndAsync()
        Reader = [IO.StreamReader]::new($fs, [Text.Encoding]::UTF8); Pending = ''
        Prefix = "[$($Kernel.Flavour)] "; ExitFile = (Join-Path $Share '.bench/exit-code')
        TimeoutSeconds = $TimeoutSeconds; DoneAt = $null; TimedOut = $false; HungAfterDone = $false
        Finished = $false; Result = $null
    }
}

function Write-BenchConsoleChunk($Run, [switch] $Flush) {
    $chunk = $Run.Reader.ReadToEnd()
    if ($chunk) {
        # The serial console writes CR LF; a bare CR (progress redraws) starts the line over.
        $lines = ($Run.Pending + ($chunk -replace "`r`n", "`n")).Split("`n")
        $Run.Pending = $lines[-1]
        foreach ($l in $lines[0..($lines.Count - 2)]) { Write-Host "$($Run.Prefix)$(($l -split "`r")[-1])" }
    }
    if ($Flush -and $Run.Pending) { Write-Host "$($Run.Prefix)$(($Run.Pending -split "`r")[-1])"; $Run.Pending = '' }
}

function Step-BenchQemu($Run) {
    # One look at a running guest: stream its console, enforce the timeout. True once it is over.
    if ($Run.Finished) { return $true }
    $p = $Run.Process
    $exited = $p.HasExited
    Write-BenchConsoleChunk $Run
    $t = $Run.Stopwatch.Elapsed.TotalSeconds
    $stop = $exited
    if (-not $stop -and $t -gt $Run.TimeoutSeconds) { $Run.TimedOut = $true; $stop = $true }
    if (-not $stop -and -not $Run.DoneAt -and (Test-Path -LiteralPath $Run.ExitFile)) { $Run.DoneAt = $t }
    if (-not $stop -and $Run.DoneAt -and $t - $Run.DoneAt -gt 30) { $Run.HungAfterDone = $true; $stop = $true }
    if (-not $stop) { return $false }

    if (-not $p.HasExited) {
        try { $p.Kill($true) } catch { }
        $null = $p.WaitForExit(10000)
    }
    Write-BenchConsoleChunk $Run -Flush
    $Run.Reader.Dispose()
    $null = $Run.OutTask.Wait(5000); $null = $Run.ErrTask.Wait(5000)
    $qemuOut = "$($Run.OutTask.Result)$($Run.ErrTask.Result)"
    [IO.File]::WriteAllText((Join-Path $Run.OutDir 'qemu.log'), $qemuOut)
    $Run.Finished = $true
    $Run.Result = [pscustomobject]@{
        Seconds = [math]::Round($Run.Stopwatch.Elapsed.TotalSeconds, 1)
        TimedOut = $Run.TimedOut
        HungAfterDone = $Run.HungAfterDone
        QemuExitCode = $(if ($p.HasExited) { $p.ExitCode } else { $null })
        QemuOutput = $qemuOut
        TimeoutSeconds = $Run.TimeoutSeconds
    }
    $true
}

function Wait-BenchQemu([object[]] $Runs) {
    # Polls every running guest until all are over; each is bounded by its own timeout.
    try {
        while ($true) {
            $all = $true
            foreach ($r in $Runs) { if (-not (Step-BenchQemu $r)) { $all = $false } }
            if ($all) { break }
            Start-Sleep -Milliseconds 500
        }
    } finally {
        # Ctrl+C or an error on the host: never leave a QEMU behind.
        foreach ($r in $Runs) {
            if (-not $r.Process.HasExited) { try { $r.Process.Kill($true) } catch { } }
        }
    }
}

function Get-BenchReadyToRunPwsh([string] $CacheDirectory) {
    # pwsh's own assemblies (System.Management.Automation & co.) ship as IL only: under TCG every
    # method is JIT-compiled in the guest, and pwsh takes ~60 s to start. A copy of the tool with
    # those assemblies precompiled by crossgen2 (ReadyToRun; same IL, plus native code) starts in
    # ~10-20 s. Built once per pwsh and runtime version, in <cache>/pwsh-r2r/. Returns the folder
    # of its pwsh.dll, or $null (with a warning) when crossgen2 cannot be had.
    $runtime = [Environment]::Version.ToString()
    $psVersion = $PSVersionTable.PSVersion.ToString()
    # "-psrg2": PSResourceGet's assemblies are precompiled too (the fleet installs with it); the
    # "-psrg" copies were left IL-only by the reference clash described below.
    $target = Join-Path $CacheDirectory "pwsh-r2r/$psVersion-net$runtime-psrg2"
    if (Test-Path -LiteralPath (Join-Path $target '.complete')) { return $target }
    try {
        Write-Host "Bench: precompiling pwsh $psVersion (ReadyToRun, crossgen2 $runtime) into $target; once per version, about 2 min"
        $dotnetRoot = Get-BenchDotnetRoot
        $dotnet = Join-Path $dotnetRoot 'dotnet'
        $tmp = Join-Path ([IO.Path]::GetTempPath()) ("lkmbench-cg-" + [Guid]::NewGuid().ToString('n').Substring(0, 8))
        $null = New-Item -ItemType Directory -Path $tmp
        try {
            @"
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Microsoft.NETCore.App.Crossgen2.linux-x64" Version="[$runtime]" /></ItemGroup>
</Project>
"@ | Set-Content -LiteralPath (Join-Path $tmp 'Crossgen2Download.proj')
            & $dotnet restore (Join-Path $tmp 'Crossgen2Download.proj') --nologo -v quiet | Out-Host
        } finally { Remove-Item -LiteralPath $tmp -Recurse -Force -ErrorAction SilentlyContinue }
        $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else {
            ((& $dotnet nuget locals global-packages -l) -replace '^global-packages:\s*', '').Trim()
        }
        $crossgen = Join-Path $packages "microsoft.netcore.app.crossgen2.linux-x64/$runtime/tools/crossgen2"
        if (-not (Test-Path -LiteralPath $crossgen)) { throw "crossgen2 $runtime was not restored ($crossgen)" }
        $framework = [Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory().TrimEnd('/')

        $staging = "$target.tmp-$PID"
        if (Test-Path -LiteralPath $staging) { Remove-Item -LiteralPath $staging -Recurse -Force }
        $null = New-Item -ItemType Directory -Force -Path (Split-Path -Parent $staging)
        Copy-Item -LiteralPath $PSHOME -Destination $staging -Recurse
        # pwsh's own assemblies, and PSResourceGet's (with its NuGet libraries): Install-PSResource
        # in a guest took 104-295 s JIT-compiling them.
        $psrg = Join-Path $PSHOME 'Modules/Microsoft.PowerShell.PSResourceGet'
        # Not the assemblies no guest loads: Roslyn (Add-Type compiling C#), WCF, and the Windows-only
        # or data-access libraries pwsh carries. They are half of pwsh's IL, and crossgen2 runs beside
        # the build on the same two cores.
        $unused = '^(Microsoft\.CodeAnalysis|System\.ServiceModel|System\.Private\.Windows|System\.Drawing|System\.Speech|System\.Web\.|System\.Data\.|System\.DirectoryServices|System\.Windows\.|System\.ComponentModel\.Composition|System\.IO\.Ports|System\.Net\.Http\.WinHttpHandler|Microsoft\.Win32\.|System\.Diagnostics\.(PerformanceCounter|EventLog)|System\.CodeDom|System\.Reflection\.Context|System\.Runtime\.Caching|System\.IO\.Packaging|System\.ServiceProcess|System\.Security\.Permissions|System\.Security\.Cryptography\.ProtectedData)'
        $pwshDlls = @(Get-ChildItem -LiteralPath $PSHOME -Filter '*.dll' -File)
        $psrgDlls = @(Get-ChildItem -LiteralPath $psrg -Filter '*.dll' -File -Recurse -ErrorAction Ignore)
        $candidates = @($pwshDlls | Where-Object Name -NotMatch $unused) + $psrgDlls
        # References as files, one per simple name: crossgen2 refuses to start when two references
        # (or a reference and the input) share one, and PSResourceGet's dependencies folder repeats
        # several of pwsh's own (Microsoft.Bcl.AsyncInterfaces, System.Text.Json...). The first
        # found wins, in the order the runtime resolves them: the framework, pwsh, then the module.
        $references = [ordered]@{}
        foreach ($f in @(Get-ChildItem -Path "$framework/*.dll" -File) + $pwshDlls + $psrgDlls) {
            if (-not $references.Contains($f.BaseName)) { $references[$f.BaseName] = $f.FullName }
        }
        $inputs = foreach ($f in $candidates) {
            try {
                $pe = [Reflection.PortableExecutable.PEReader]::new([IO.File]::OpenRead($f.FullName))
                try {
                    $cor = $pe.PEHeaders.CorHeader
                    if ($cor -and $cor.ManagedNativeHeaderDirectory.Size -eq 0 -and ($cor.Flags -band [Reflection.PortableExecutable.CorFlags]::ILOnly)) { $f }
                } finally { $pe.Dispose() }
            } catch { }
        }
        # Two crossgen2 processes at a time (2 cores); each failure just leaves that assembly IL-only.
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $inputs | ForEach-Object -ThrottleLimit 2 -Parallel {
            $out = Join-Path $using:staging ([IO.Path]::GetRelativePath($using:PSHOME, $_.FullName))
            $refs = foreach ($r in ($using:references).GetEnumerator()) { if ($r.Key -ne $_.BaseName) { '-r', $r.Value } }
            $log = & $using:crossgen @refs --targetos linux --targetarch x64 -O $_.FullName -o "$out.r2r" 2>&1
            if ($LASTEXITCODE -eq 0 -and (Test-Path -LiteralPath "$out.r2r")) { Move-Item -LiteralPath "$out.r2r" -Destination $out -Force }
            else { Remove-Item -LiteralPath "$out.r2r" -ErrorAction SilentlyContinue; Write-Host "Bench: crossgen2 left $($_.Name) as IL: $($log | Select-Object -Last 1)" }
        }
        # The assembly that matters most: without it the guests JIT most of pwsh (about twice the
        # start-up time) and nothing else says so.
        $sma = [Reflection.PortableExecutable.PEReader]::new([IO.File]::OpenRead((Join-Path $staging 'System.Management.Automation.dll')))
        try { $precompiled = $sma.PEHeaders.CorHeader.ManagedNativeHeaderDirectory.Size -gt 0 } finally { $sma.Dispose() }
        if (-not $precompiled) { Remove-Item -LiteralPath $staging -Recurse -Force; throw 'crossgen2 left System.Management.Automation.dll as IL' }
        [IO.File]::WriteAllText((Join-Path $staging '.complete'), "pwsh $psVersion, .NET $runtime, crossgen2 $runtime`n")
        if (Test-Path -LiteralPath $target) { Remove-Item -LiteralPath $target -Recurse -Force }
        Move-Item -LiteralPath $staging -Destination $target
        Write-Host ("Bench: ReadyToRun pwsh ready in {0:n0} s ({1} assemblies)" -f $sw.Elapsed.TotalSeconds, @($inputs).Count)
        $target
    } catch {
        Write-Warning "Bench: cannot precompile pwsh ($($_.Exception.Message)); the guest will run the IL-only tool, which starts about 3x slower."
        $null
    }
}

function Read-BenchNumber([string] $Path) {
    if (Test-Path -LiteralPath $Path) {
        $t = (Get-Content -LiteralPath $Path -Raw).Trim()
        $d = 0.0
        if ([double]::TryParse($t, [Globalization.NumberStyles]::Float, [Globalization.CultureInfo]::InvariantCulture, [ref] $d)) { return $d }
    }
    $null
}

function Get-BenchVerdict($Run, [string] $OutDir, [bool] $IsPester, [switch] $AllowNoResultFile) {
    $bench = Join-Path $OutDir '.bench'
    $consolePath = Join-Path $OutDir 'console.log'
    $consoleText = if (Test-Path -LiteralPath $consolePath) { Get-Content -LiteralPath $consolePath -Raw } else { '' }
    if ($null -eq $consoleText) { $consoleText = '' }
    $exitCode = Read-BenchNumber (Join-Path $bench 'exit-code'); if ($null -ne $exitCode) { $exitCode = [int]$exitCode }
    $ready = Read-BenchNumber (Join-Path $bench 't-ready')
    $cmdStart = Read-BenchNumber (Join-Path $bench 't-command')
    $pwshReady = Read-BenchNumber (Join-Path $bench 't-pwsh')
    $pesterReady = Read-BenchNumber (Join-Path $bench 't-pester')
    $done = Read-BenchNumber (Join-Path $bench 't-done')
    $fatal = if (Test-Path -LiteralPath (Join-Path $bench 'fatal')) { (Get-Content -LiteralPath (Join-Path $bench 'fatal') -Raw).Trim() }

    $resultFiles = @(Get-ChildItem -LiteralPath $OutDir -Recurse -File | Where-Object {
            $_.FullName -notlike "$bench*" -and $_.Name -notin 'console.log', 'qemu.log' })
    $xml = @($resultFiles | Where-Object Extension -eq '.xml')
    $tests = $null; $failed = $null; $testSummary = ''
    foreach ($x in $xml) {
        try {
            [xml] $doc = Get-Content -LiteralPath $x.FullName -Raw
            $r = $doc.DocumentElement
            if ($r.LocalName -eq 'test-results') {
                # NUnit 2.5: total excludes not-run; failures + errors are failures.
                $tests += [int]$r.total; $failed += [int]$r.failures + [int]$r.errors
                $testSummary += "; $($x.Name): $($r.total) tests, $([int]$r.failures + [int]$r.errors) failed, $([int]$r.'not-run' + [int]$r.skipped + [int]$r.ignored + [int]$r.inconclusive) not run"
            } elseif ($r.LocalName -eq 'testsuites' -or $r.LocalName -eq 'testsuite') {
                $tests += [int]$r.tests; $failed += [int]$r.failures + [int]$r.errors
                $testSummary += "; $($x.Name): $($r.tests) tests, $([int]$r.failures + [int]$r.errors) failed"
            }
        } catch {
            $failed += 1; $testSummary += "; $($x.Name): unreadable XML ($($_.Exception.Message))"
        }
    }

    $reason = $null
    $panic = [regex]::Match($consoleText, 'Kernel panic - not syncing:[^\r\n]*')
    if ($Run.TimedOut) { $reason = "timed out after $($Run.TimeoutSeconds) s (QEMU killed); raise -TimeoutSeconds if the guest was still making progress" }
    elseif ($fatal) { $reason = "the guest's /init failed: $fatal" }
    elseif ($panic.Success) { $reason = "the guest kernel panicked: $($panic.Value)" }
    elseif ($null -eq $exitCode -and $Run.QemuExitCode -and $Run.QemuOutput) { $reason = "QEMU failed (exit $($Run.QemuExitCode)): $($Run.QemuOutput.Trim())" }
    elseif ($null -eq $exitCode) { $reason = 'the guest stopped before the guest command finished (no exit code came back); see the console tail' }
    elseif ($exitCode -ne 0) { $reason = "the guest command exited with $exitCode" }
    elseif ($resultFiles.Count -eq 0 -and -not $AllowNoResultFile) { $reason = "the guest command wrote no result file to `$LKMBENCH_RESULTS ($script:GuestResults)" }
    elseif ($IsPester -and $xml.Count -eq 0) { $reason = 'the Pester run wrote no NUnit XML' }
    elseif ($IsPester -and -not $tests) { $reason = 'no tests ran (the NUnit XML counts 0 tests)' }
    elseif ($failed) { $reason = "$failed test(s) failed" }
    if ($Run.HungAfterDone -and -not $reason) { Write-Warning "The guest did not power off within 30 s after the guest command; QEMU was killed." }

    [pscustomobject]@{
        Passed = -not $reason
        Reason = $reason
        ExitCode = $exitCode
        GuestReadySeconds = $ready
        GuestCommandSeconds = $(if ($null -ne $done -and $null -ne $ready) { [math]::Round($done - $ready, 1) })
        CommandStartSeconds = $cmdStart
        PwshReadySeconds = $pwshReady
        PesterReadySeconds = $pesterReady
        QemuSeconds = $Run.Seconds
        Tests = $tests
        Failed = $failed
        TestSummary = $testSummary
        ResultFiles = @($resultFiles | ForEach-Object { [IO.Path]::GetRelativePath($OutDir, $_.FullName) })
    }
}

function Get-BenchBootArguments([string] $Path) {
    # A test file that needs its own kernel command line says so near its top:
    #   # lkmbench: boot module.sig_enforce=1
    # The bench boots such a file on its own with those arguments (a folder run boots it after
    # the folder's other suites); Invoke-GuestPester.ps1 leaves it out of a boot without them.
    $line = Get-Content -LiteralPath $Path -TotalCount 5 | Where-Object { $_ -match '^#\s*lkmbench:\s*boot\s+(\S.*)$' } | Select-Object -First 1
    if ($line -and $line -match '^#\s*lkmbench:\s*boot\s+(\S.*)$') { $Matches[1].Trim() } else { '' }
}
