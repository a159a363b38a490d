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
