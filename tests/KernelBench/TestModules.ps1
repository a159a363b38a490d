# Host side of the bench's test modules (testmodules/*.c): built with Debian's own
# linux-headers-<version> and gcc for each guest kernel, cached by a hash of the sources, and
# handed to the guest as LKMBENCH_TESTMODULES. Building happens on the host; loading ONLY in the guest.

function Install-BenchKernelHeaders([string] $Version) {
    # Debian's headers for the guest kernel, installed like the bench's other tools. The package's
    # dependencies include the matching linux-image (an alternative dependency of the headers);
    # installing it does not change the running kernel.
    $dir = "/usr/src/linux-headers-$Version"
    if (Test-Path -LiteralPath (Join-Path $dir 'Makefile')) { return $dir }
    # The same build of the kernel as the fixture: the package version pinned in tests/fixtures/kernels.pin.
    $pins = Join-Path $PSScriptRoot '../fixtures/kernels.pin'
    $pinned = Get-Content -LiteralPath $pins | Where-Object { $_ -notmatch '^\s*(#|$)' } | ForEach-Object { , (-split $_) } |
        Where-Object { $_[1] -eq $Version } | Select-Object -First 1
    $package = if ($pinned) { "linux-headers-$Version=$($pinned[2])" } else { "linux-headers-$Version" }
    if ((id -u) -ne '0') { throw "Bench: $package is not installed and this is not root. Install it: sudo apt-get install -y $package" }
    if (-not (Get-Command apt-get -ErrorAction Ignore)) { throw "Bench: $package is not installed and there is no apt-get to install it." }
    $env:DEBIAN_FRONTEND = 'noninteractive'
    $null = apt-cache show $package 2>$null
    if ($LASTEXITCODE) { apt-get update -qq -o DPkg::Lock::Timeout=300 }
    Write-Host "Bench: installing $package (for the audit's test modules)"
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $package | Out-Null
    if ($LASTEXITCODE) { throw "Bench: apt-get install $package failed ($LASTEXITCODE)." }
    if (-not (Test-Path -LiteralPath (Join-Path $dir 'Makefile'))) { throw "Bench: $package is installed but $dir has no Makefile." }
    $dir
}

function Get-BenchTestModules($Kernel, [string] $CacheDirectory, [string] $SourceDirectory) {
    # Returns the folder holding the built .ko files for this kernel.
    $sources = @(Get-ChildItem -LiteralPath $SourceDirectory -File | Where-Object { $_.Name -eq 'Kbuild' -or $_.Extension -eq '.c' } | Sort-Object Name)
    $sha = [Security.Cryptography.SHA256]::Create()
    $bytes = [Collections.Generic.List[byte]]::new()
    foreach ($f in $sources) { $bytes.AddRange([Text.Encoding]::UTF8.GetBytes($f.Name)); $bytes.AddRange([IO.File]::ReadAllBytes($f.FullName)) }
    $hash = [Convert]::ToHexString($sha.ComputeHash($bytes.ToArray())).Substring(0, 12).ToLowerInvariant()
    $target = Join-Path $CacheDirectory "$($Kernel.Version)/testmodules-$hash"
    if (Test-Path -LiteralPath (Join-Path $target '.ready')) { return $target }

    $headers = Install-BenchKernelHeaders -Version $Kernel.Version
    $work = Join-Path ([IO.Path]::GetTempPath()) ("lkmbench-km-" + [Guid]::NewGuid().ToString('n').Substring(0, 12))
    $null = New-Item -ItemType Directory -Force -Path $work
    try {
        $sources | Copy-Item -Destination $work
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $log = & make -s -C $headers "M=$work" modules 2>&1
        if ($LASTEXITCODE) { throw "Bench: building the test modules for $($Kernel.Version) failed (make -C $headers M=$work modules):`n$($log -join "`n")" }
        Write-Host ("Bench: test modules for {0} built in {1:n1} s with {2}" -f $Kernel.Version, $sw.Elapsed.TotalSeconds, $headers)
        $staging = "$target.tmp-$PID"
        $null = New-Item -ItemType Directory -Force -Path $staging
        Get-ChildItem -LiteralPath $work -Filter *.ko | Copy-Item -Destination $staging
        $null = New-Item -ItemType File -Path (Join-Path $staging '.ready')
        if (Test-Path -LiteralPath $target) { Remove-Item -LiteralPath $target -Recurse -Force }
        Move-Item -LiteralPath $staging -Destination $target
    } finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
    $target
}

function New-BenchSignatureCases($Kernel, [string] $Target) {
    # The copies of one shipped module (dummy) the kernel must refuse under module.sig_enforce=1,
    # made on the host before the guest boots (guest/SignatureEnforcement.Tests.ps1): one byte of
    # .modinfo changed, the signature stripped, and re-signed by a key made here with openssl and
    # Debian's scripts/sign-file from linux-headers-<version>. The private key never leaves a temp
    # folder deleted at the end; only the copies and the foreign certificate go to the guest.
    $headers = Install-BenchKernelHeaders -Version $Kernel.Version
    $signFile = Join-Path $headers 'scripts/sign-file'
    if (-not (Test-Path -LiteralPath $signFile)) { throw "Bench: $signFile is missing (Debian's linux-headers-$($Kernel.Version) carries it)." }
    $shipped = @(Get-ChildItem -LiteralPath (Join-Path $Kernel.ModuleDirectory 'kernel/drivers/net') -File -Filter 'dummy.ko*')[0]
    if (-not $shipped) { throw "Bench: no dummy.ko* in $($Kernel.ModuleDirectory)/kernel/drivers/net." }
    $null = New-Item -ItemType Directory -Force -Path $Target
    $work = Join-Path ([IO.Path]::GetTempPath()) ("lkmbench-sig-" + [Guid]::NewGuid().ToString('n').Substring(0, 12))
    $null = New-Item -ItemType Directory -Path $work
    try {
        # The kernel decompresses .ko.xz before it checks the signature; the copies are plain .ko.
        $plain = Join-Path $work 'dummy.ko'
        Copy-Item -LiteralPath $shipped.FullName -Destination (Join-Path $work $shipped.Name)
        if ($shipped.Name -like '*.xz') { & xz -d -- (Join-Path $work $shipped.Name); if ($LASTEXITCODE) { throw "Bench: xz -d $($shipped.FullName) failed." } }
        # Bytes are read back through .NET, never through PowerShell's text pipeline.
        $bytes = [IO.File]::ReadAllBytes($plain)
        $marker = [Text.Encoding]::ASCII.GetBytes("~Module signature appended~`n")
        $tail = $bytes[($bytes.Length - $marker.Length)..($bytes.Length - 1)]
        if ([Convert]::ToHexString($tail) -ne [Convert]::ToHexString($marker)) { throw "Bench: $($shipped.FullName) is not signed." }
        $n = $bytes.Length - $marker.Length - 4   # struct module_signature ends with sig_len, big-endian
        $sigLength = ([long]$bytes[$n] -shl 24) -bor ([long]$bytes[$n + 1] -shl 16) -bor ([long]$bytes[$n + 2] -shl 8) -bor [long]$bytes[$n + 3]
        $payload = $bytes.Length - $marker.Length - 12 - $sigLength

        $stripped = [byte[]]::new($payload); [Array]::Copy($bytes, $stripped, $payload)
        [IO.File]::WriteAllBytes((Join-Path $Target 'dummy-stripped.ko'), $stripped)

        $patched = [byte[]]$bytes.Clone()
        $at = [Text.Encoding]::Latin1.GetString($bytes).IndexOf('alias=rtnl-link-', [StringComparison]::Ordinal)
        if ($at -lt 0) { throw "Bench: no alias=rtnl-link- in $($shipped.FullName)." }
        $patched[$at + 'alias=rtnl-link-'.Length] = $patched[$at + 'alias=rtnl-link-'.Length] -bxor 0x20   # one letter's case
        [IO.File]::WriteAllBytes((Join-Path $Target 'dummy-patched.ko'), $patched)

        $key = Join-Path $work 'key.pem'; $cert = Join-Path $work 'cert.pem'
        $log = & openssl req -new -x509 -newkey rsa:2048 -nodes -days 2 -sha256 -subj '/CN=LkmPowerShell bench foreign key' -keyout $key -out $cert 2>&1
        if ($LASTEXITCODE) { throw "Bench: openssl req failed: $log" }
        $foreign = Join-Path $Target 'dummy-foreign.ko'
        [IO.File]::WriteAllBytes($foreign, $stripped)
        $log = & $signFile sha256 $key $cert $foreign 2>&1
        if ($LASTEXITCODE) { throw "Bench: $signFile sha256 ... $foreign failed: $log" }
        Copy-Item -LiteralPath $cert -Destination (Join-Path $Target 'foreign-cert.pem')
        [IO.File]::WriteAllText((Join-Path $Target 'shipped.txt'), $shipped.FullName)
        [IO.File]::WriteAllText((Join-Path $Target 'kernel-image.txt'), $Kernel.Vmlinuz)
        Write-Host "Bench: signature cases for $($Kernel.Version) in $Target (from $($shipped.FullName); foreign key signed with $signFile)"
    } finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
    $Target
}
