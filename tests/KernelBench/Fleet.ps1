# Host side of the bench's fleet wave, dot-sourced by Invoke-KernelBench.ps1: both guests booted at
# once with a network and sshd, reachable from the host over PowerShell remoting over SSH, and a
# host-side Pester folder (tests/KernelBench/fleet) run against them.
# sshd runs only in the guests: Debian's openssh-server is unpacked (dpkg-deb -x) into the bench
# cache, never installed on the host, and started in the guest's root from there.

# Libraries sshd may need that a host with only the ssh client lacks, and the Debian package of each.
$script:BenchSshLibraryPackage = @{
    'libwrap.so.0' = 'libwrap0'; 'libcrypto.so.3' = 'libssl3'; 'libz.so.1' = 'zlib1g'; 'libcrypt.so.1' = 'libcrypt1'
    'libgssapi_krb5.so.2' = 'libgssapi-krb5-2'; 'libkrb5.so.3' = 'libkrb5-3'; 'libk5crypto.so.3' = 'libk5crypto3'
    'libkrb5support.so.0' = 'libkrb5support0'; 'libcom_err.so.2' = 'libcom-err2'; 'libkeyutils.so.1' = 'libkeyutils1'
    'libsystemd.so.0' = 'libsystemd0'; 'libaudit.so.1' = 'libaudit1'; 'libcap-ng.so.0' = 'libcap-ng0'
    'libselinux.so.1' = 'libselinux1'; 'libpcre2-8.so.0' = 'libpcre2-8-0'; 'libpam.so.0' = 'libpam0g'
    'libnsl.so.2' = 'libnsl2'; 'libtirpc.so.3' = 'libtirpc3'; 'liblz4.so.1' = 'liblz4-1'; 'libzstd.so.1' = 'libzstd1'
    'liblzma.so.5' = 'liblzma5'; 'libgcrypt.so.20' = 'libgcrypt20'; 'libgpg-error.so.0' = 'libgpg-error0'; 'libcap.so.2' = 'libcap2'
}

function Get-BenchAptCandidate([string] $Package) {
    $policy = apt-cache policy $Package 2>$null
    $line = @($policy | Where-Object { $_ -match '^\s*Candidate:\s*(\S+)' })[0]
    if ($line -and $line -match 'Candidate:\s*(\S+)' -and $Matches[1] -ne '(none)') { $Matches[1] } else { $null }
}

function Get-BenchOpenSsh([string] $CacheDirectory) {
    # Debian's sshd unpacked under <cache>/openssh/<version>/ (cached), with the libraries the
    # host lacks. Returns Sshd (path) and LibraryPath (for LD_LIBRARY_PATH in the guest).
    $root = Join-Path $CacheDirectory 'openssh'
    $version = Get-BenchAptCandidate 'openssh-server'
    $pick = {
        param($dir)
        [pscustomobject]@{ Sshd = (Join-Path $dir 'usr/sbin/sshd'); LibraryPath = ((Join-Path $dir 'usr/lib/x86_64-linux-gnu'), (Join-Path $dir 'lib/x86_64-linux-gnu') -join ':'); Directory = $dir }
    }
    if ($version) {
        $dir = Join-Path $root ($version -replace '[^A-Za-z0-9.+~-]', '_')
        if (Test-Path -LiteralPath (Join-Path $dir '.ready')) { return & $pick $dir }
    } else {
        # apt does not know the package (no lists): a copy cached earlier will do.
        $cached = Get-ChildItem -LiteralPath $root -Directory -ErrorAction Ignore | Where-Object { Test-Path -LiteralPath (Join-Path $_.FullName '.ready') } |
            Sort-Object LastWriteTimeUtc | Select-Object -Last 1
        if ($cached) { return & $pick $cached.FullName }
        if ((id -u) -eq '0') { apt-get -o DPkg::Lock::Timeout=300 update -qq | Out-Null; $version = Get-BenchAptCandidate 'openssh-server' }
        if (-not $version) { throw "Bench: apt knows no openssh-server package (run apt-get update); the fleet wave needs Debian's sshd for the guests." }
        $dir = Join-Path $root ($version -replace '[^A-Za-z0-9.+~-]', '_')
    }

    Write-Host "Bench: fetching openssh-server $version for the guests (apt-get download; unpacked into $dir, not installed)"
    $work = Join-Path ([IO.Path]::GetTempPath()) ("lkmbench-ssh-" + [Guid]::NewGuid().ToString('n').Substring(0, 12))
    $null = New-Item -ItemType Directory -Force -Path $work
    try {
        $tree = Join-Path $work 'tree'
        $null = New-Item -ItemType Directory -Force -Path $tree
        $packages = [Collections.Generic.List[string]]::new()
        $packages.Add('openssh-server'); $packages.Add('libwrap0')
        $fetched = [Collections.Generic.HashSet[string]]::new()
        for ($round = 0; $round -lt 4; $round++) {
            $new = @($packages | Where-Object { -not $fetched.Contains($_) })
            if (-not $new) { break }
            Push-Location -LiteralPath $work
            try { $log = apt-get download @new 2>&1 } finally { Pop-Location }
            if ($LASTEXITCODE) { throw "Bench: apt-get download $($new -join ' ') failed ($LASTEXITCODE): $($log -join "`n")" }
            foreach ($p in $new) { $null = $fetched.Add($p) }
            foreach ($deb in Get-ChildItem -LiteralPath $work -Filter '*.deb') {
                dpkg-deb -x $deb.FullName $tree
                if ($LASTEXITCODE) { throw "Bench: dpkg-deb -x $($deb.Name) failed." }
                Remove-Item -LiteralPath $deb.FullName
            }
            # What the host's loader cannot find for sshd, with the unpacked libraries in the path.
            $env:LD_LIBRARY_PATH, $saved = ((Join-Path $tree 'usr/lib/x86_64-linux-gnu'), (Join-Path $tree 'lib/x86_64-linux-gnu') -join ':'), $env:LD_LIBRARY_PATH
            try { $missing = @(ldd (Join-Path $tree 'usr/sbin/sshd') 2>&1 | Where-Object { "$_" -match 'not found' } | ForEach-Object { ("$_" -split '\s+' | Where-Object { $_ })[0] }) }
            finally { $env:LD_LIBRARY_PATH = $saved }
            if (-not $missing) { break }
            foreach ($lib in $missing) {
                $pkg = $script:BenchSshLibraryPackage[$lib]
                if (-not $pkg) { throw "Bench: sshd needs $lib, which this host lacks, and the bench does not know its Debian package." }
                if ($fetched.Contains($pkg)) { throw "Bench: sshd still misses $lib after unpacking $pkg." }
                $packages.Add($pkg)
            }
        }
        if (-not (Test-Path -LiteralPath (Join-Path $tree 'usr/sbin/sshd'))) { throw 'Bench: openssh-server unpacked without usr/sbin/sshd.' }
        $staging = "$dir.tmp-$PID"
        if (Test-Path -LiteralPath $staging) { Remove-Item -LiteralPath $staging -Recurse -Force }
        $null = New-Item -ItemType Directory -Force -Path (Split-Path -Parent $staging)
        Move-Item -LiteralPath $tree -Destination $staging
        [IO.File]::WriteAllText((Join-Path $staging '.ready'), "openssh-server $version; packages: $($fetched -join ' ')`n")
        if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force }
        Move-Item -LiteralPath $staging -Destination $dir
    } finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
    & $pick $dir
}

function Get-BenchFreePort {
    # A free TCP port on the host's loopback for QEMU's forward to the guest's port 22.
    $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    try { $l.Start(); $l.LocalEndpoint.Port } finally { $l.Stop() }
}

function New-BenchSshKey([string] $Path, [string] $Comment) {
    $out = ssh-keygen -q -t ed25519 -N '' -C $Comment -f $Path 2>&1
    if ($LASTEXITCODE) { throw "Bench: ssh-keygen -f $Path failed: $out" }
    chmod 0600 $Path
    (Get-Content -LiteralPath "$Path.pub" -Raw).Trim()
}

function Write-BenchFleetGuestFiles($Share, $Kernel, [string] $ClientPublicKey, [string[]] $EnvironmentLines, [int] $WaitSeconds, $OpenSsh) {
    # In <share>/.bench/ssh: the guest's host key (made here, per run), root's authorized_keys,
    # sshd_config, and the powershell subsystem's wrapper. Returns the guest command (sh) that
    # starts sshd and waits for the host's .bench/fleet-done, and the host key's public half.
    $q = { param($s) ConvertTo-ShQuoted $s }
    $lf = "`n"
    $dir = Join-Path $Share '.bench/ssh'
    $null = New-Item -ItemType Directory -Force -Path $dir
    $hostPub = New-BenchSshKey -Path (Join-Path $dir 'ssh_host_ed25519_key') -Comment (Get-BenchHostName $Kernel)
    [IO.File]::WriteAllText((Join-Path $dir 'authorized_keys'), $ClientPublicKey + $lf)
    $g = "$script:GuestResults/.bench/ssh"
    $keyDir = '/run/lkmbench-ssh'

    # The subsystem: the guest's pwsh with the bench's environment, but no repository module
    # folders: remoting sees only what was installed in the guest (and pwsh's own modules).
    $wrapper = @(
        '#!/bin/sh'
        '# Generated by tests/KernelBench/Invoke-KernelBench.ps1: sshd''s powershell subsystem in a fleet guest.'
        $EnvironmentLines
        'cd /root || exit 90'
        'exec "$DOTNET_ROOT/dotnet" "$LKMBENCH_PWSH" -sshs -NoLogo -NoProfile'
    ) -join $lf
    [IO.File]::WriteAllText((Join-Path $dir 'pwsh-subsystem.sh'), $wrapper + $lf)
    chmod 0755 (Join-Path $dir 'pwsh-subsystem.sh')

    $config = @(
        '# Generated by tests/KernelBench/Invoke-KernelBench.ps1 for a fleet guest.'
        'Port 22'
        'ListenAddress 0.0.0.0'
        "HostKey $keyDir/ssh_host_ed25519_key"
        'PidFile /run/sshd.pid'
        'PasswordAuthentication no'
        'KbdInteractiveAuthentication no'
        'PubkeyAuthentication yes'
        'PermitRootLogin prohibit-password'
        'AuthorizedKeysFile .ssh/authorized_keys'
        'UsePAM no'
        'UseDNS no'
        'PrintMotd no'
        'X11Forwarding no'
        'LogLevel VERBOSE'
        "Subsystem powershell $g/pwsh-subsystem.sh"
    ) -join $lf
    [IO.File]::WriteAllText((Join-Path $dir 'sshd_config'), $config + $lf)

    $command = @(
        '# The fleet guest: sshd, then wait until the host says the fleet suite is over.'
        "B=$(& $q "$script:GuestResults/.bench")"
        "S=$(& $q $g)"
        "K=$(& $q $keyDir)"
        'grep -q "^sshd:" /etc/passwd || echo "sshd:x:4243:65534:sshd privilege separation:/run/sshd:/usr/sbin/nologin" >> /etc/passwd'
        'mkdir -p /run/sshd "$K" && chmod 0755 /run/sshd && chmod 0700 "$K" || exit 91'
        # Copies owned by root with strict modes: sshd refuses keys and key lists others could change.
        'cp "$S/ssh_host_ed25519_key" "$K/" && chmod 0600 "$K/ssh_host_ed25519_key" && chown 0:0 "$K/ssh_host_ed25519_key" || exit 91'
        'mkdir -p /root/.ssh && chmod 0700 /root/.ssh && cp "$S/authorized_keys" /root/.ssh/authorized_keys && chmod 0600 /root/.ssh/authorized_keys || exit 91'
        'chown 0:0 /root /root/.ssh /root/.ssh/authorized_keys; chmod go-w /root'
        "LD_LIBRARY_PATH=$(& $q $OpenSsh.LibraryPath) $(& $q $OpenSsh.Sshd) -f `"`$S/sshd_config`" -E `"`$LKMBENCH_RESULTS/sshd.log`" || { echo 'lkmbench: sshd did not start'; cat `"`$LKMBENCH_RESULTS/sshd.log`"; exit 92; }"
        'cut -d" " -f1 /proc/uptime > "$B/t-sshd"'
        'echo "lkmbench: sshd up at $(cat "$B/t-sshd")s as $(hostname)"'
        "i=0; while [ ! -e `"`$B/fleet-done`" ] && [ `$i -lt $WaitSeconds ]; do sleep 1; i=`$((i + 1)); done"
        'cut -d" " -f1 /proc/uptime > "$B/t-fleet-done"'
        '[ -e "$B/fleet-done" ] || { echo "lkmbench: the host never wrote .bench/fleet-done"; exit 93; }'
        'kill "$(cat /run/sshd.pid)" 2>/dev/null'
        'exit 0'
    ) -join $lf
    [pscustomobject]@{ Command = $command; HostPublicKey = $hostPub }
}

function Test-BenchSshBanner([int] $Port, [int] $TimeoutMs = 3000) {
    # True when something answering "SSH-" is behind the forwarded port (QEMU accepts the TCP
    # connection itself even while nothing listens in the guest).
    $c = [Net.Sockets.TcpClient]::new()
    try {
        if (-not $c.ConnectAsync('127.0.0.1', $Port).Wait($TimeoutMs)) { return $false }
        $s = $c.GetStream()
        $buf = [byte[]]::new(64)
        $t = $s.ReadAsync($buf, 0, $buf.Length)
        if (-not $t.Wait($TimeoutMs)) { return $false }
        [Text.Encoding]::ASCII.GetString($buf, 0, $t.Result).StartsWith('SSH-')
    } catch { $false } finally { $c.Dispose() }
}

function Invoke-BenchFleetWave([object[]] $Jobs, [string] $FleetScript, [string] $ResultsDirectory, [string] $RepoRoot,
    [string] $DotnetRoot, [string] $PesterModulePath, [string] $KeyDirectory, [scriptblock] $Start, [int] $TimeoutSeconds,
    [string[]] $Tag, [string[]] $ExcludeTag, [object[]] $AlsoRunning = @(), [Parameter(Mandatory)] [int] $AtOnce) {
    # Boots the fleet guests together, waits for their sshd, runs the host-side Pester folder in
    # a child pwsh, then lets the guests power off. Returns the fleet's verdict and figures.
    # AlsoRunning: guests of other suites booted beside the fleet, whose consoles and timeouts are
    # looked after here meanwhile. AtOnce: how many guests run at the same time (for their vCPUs).
    $fleetOut = Join-Path $ResultsDirectory 'fleet'
    if (Test-Path -LiteralPath $fleetOut) { Remove-Item -LiteralPath $fleetOut -Recurse -Force }
    $null = New-Item -ItemType Directory -Force -Path $fleetOut
    $sw = [Diagnostics.Stopwatch]::StartNew()
    foreach ($j in $Jobs) { & $Start $j $AtOnce }
    $runs = @($Jobs | ForEach-Object Run)
    $figures = [ordered]@{}
    $reason = $null
    $child = $null
    try {
        # 1. both sshd up: the guest's mark, then an SSH banner through the forwarded port.
        $pending = [Collections.Generic.List[object]]::new(); foreach ($j in $Jobs) { $pending.Add($j) }
        while ($pending.Count) {
            foreach ($r in $AlsoRunning) { $null = Step-BenchQemu $r }
            foreach ($j in @($pending)) {
                if (Step-BenchQemu $j.Run) { $reason = "$($j.Name) stopped before its sshd answered"; break }
                if ((Test-Path -LiteralPath (Join-Path $j.Share '.bench/t-sshd')) -and (Test-BenchSshBanner $j.Port)) {
                    $figures["$($j.Kernel.Flavour)SshReadySeconds"] = [math]::Round($j.Run.Stopwatch.Elapsed.TotalSeconds, 1)
                    $null = $pending.Remove($j)
                }
            }
            if ($reason) { break }
            if ($pending.Count) { Start-Sleep -Milliseconds 500 }
        }
        $figures.BothReadySeconds = [math]::Round($sw.Elapsed.TotalSeconds, 1)

        if (-not $reason) {
            # 2. the connection data for the suite, and the suite in a child pwsh on the host.
            $knownHosts = Join-Path $KeyDirectory 'known_hosts'
            $lines = foreach ($j in $Jobs) {
                $hn = Get-BenchHostName $j.Kernel
                "[127.0.0.1]:$($j.Port),$hn,[$hn]:$($j.Port) $($j.HostPublicKey -replace '\s+\S+$', '')"
            }
            [IO.File]::WriteAllText($knownHosts, ($lines -join "`n") + "`n")
            $clientKey = Join-Path $KeyDirectory 'id_ed25519'
            $fleet = [ordered]@{
                RepoRoot = $RepoRoot
                ResultsDirectory = $fleetOut
                Package = @(Get-ChildItem -LiteralPath (Join-Path $RepoRoot 'out/packages') -Filter 'LkmPowerShell.*.nupkg' -ErrorAction Ignore | Sort-Object LastWriteTimeUtc | Select-Object -Last 1 | ForEach-Object FullName)[0]
                KnownHostsFile = $knownHosts
                Guests = @(foreach ($j in $Jobs) {
                        $hn = Get-BenchHostName $j.Kernel
                        [ordered]@{
                            Name = $hn; Flavour = $j.Kernel.Flavour; KernelVersion = $j.Kernel.Version
                            Address = '127.0.0.1'; Port = $j.Port; UserName = 'root'
                            KeyFilePath = $clientKey; KnownHostsFile = $knownHosts; TestModules = $j.TestModules
                            SSHConnection = [ordered]@{
                                HostName = $hn; Port = $j.Port; UserName = 'root'; KeyFilePath = $clientKey
                                # Milliseconds. Without it New-PSSession -SSHConnection gives up at once ("failed
                                # after time out: 0 seconds"); a pwsh start in an emulated guest takes minutes.
                                ConnectingTimeout = 600000
                                # Port in Options too (ssh -o Port): New-PSSession -SSHConnection drops the Port
                                # key when a plain hashtable enumerates it before HostName.
                                Options = [ordered]@{ HostName = '127.0.0.1'; Port = "$($j.Port)"; UserKnownHostsFile = $knownHosts; StrictHostKeyChecking = 'yes' }
                            }
                        }
                    })
            }
            $fleetJson = Join-Path $KeyDirectory 'fleet.json'
            $fleet | ConvertTo-Json -Depth 6 | Set-Content -LiteralPath $fleetJson
            $resultFile = Join-Path $fleetOut 'fleet.nunit.xml'
            Write-Host "=== kernel bench: both guests answer over SSH after $($figures.BothReadySeconds) s; running the fleet suite $FleetScript on the host ===" -ForegroundColor Cyan
            $psi = [Diagnostics.ProcessStartInfo]::new((Join-Path $DotnetRoot 'dotnet'))
            foreach ($a in @((Join-Path $PSHOME 'pwsh.dll'), '-NoLogo', '-NoProfile', '-NonInteractive', '-File', (Join-Path $RepoRoot 'tests/Invoke-PesterSuite.ps1'),
                    '-Path', $FleetScript, '-ResultFile', $resultFile) + $(if ($Tag) { '-Tag', ($Tag -join ',') }) + $(if ($ExcludeTag) { '-ExcludeTag', ($ExcludeTag -join ',') })) {
                $psi.ArgumentList.Add($a)
            }
            $psi.UseShellExecute = $false
            $psi.WorkingDirectory = $RepoRoot
            $psi.Environment['LKMBENCH_FLEET'] = $fleetJson
            $psi.Environment['PSModulePath'] = $PesterModulePath
            $suiteWatch = [Diagnostics.Stopwatch]::StartNew()
            $child = [Diagnostics.Process]::Start($psi)
            while (-not $child.HasExited) {
                foreach ($j in $Jobs) { $null = Step-BenchQemu $j.Run }
                foreach ($r in $AlsoRunning) { $null = Step-BenchQemu $r }
                if (@($Jobs | Where-Object { $_.Run.Finished }).Count) { $reason = "a fleet guest stopped while the fleet suite ran"; break }
                if ($sw.Elapsed.TotalSeconds -gt $TimeoutSeconds) { $reason = "the fleet suite did not finish within $TimeoutSeconds s"; break }
                $null = $child.WaitForExit(500)
            }
            if (-not $child.HasExited) { try { $child.Kill($true) } catch { }; $null = $child.WaitForExit(10000) }
            $figures.SuiteSeconds = [math]::Round($suiteWatch.Elapsed.TotalSeconds, 1)
            $figures.SuiteExitCode = $child.ExitCode
        }
    } finally {
        # 3. the guests may power off now.
        foreach ($j in $Jobs) { [IO.File]::WriteAllText((Join-Path $j.Share '.bench/fleet-done'), "done`n") }
        $offWatch = [Diagnostics.Stopwatch]::StartNew()
        Wait-BenchQemu $runs
        $figures.PowerOffSeconds = [math]::Round($offWatch.Elapsed.TotalSeconds, 1)
        $figures.WaveSeconds = [math]::Round($sw.Elapsed.TotalSeconds, 1)
    }

    # Verdict of the suite from its NUnit XML, like the guests' suites.
    $tests = $null; $failed = $null
    $resultFile = Join-Path $fleetOut 'fleet.nunit.xml'
    if (-not $reason) {
        if (-not (Test-Path -LiteralPath $resultFile)) { $reason = 'the fleet suite wrote no NUnit XML' }
        else {
            $r = ([xml](Get-Content -LiteralPath $resultFile -Raw)).DocumentElement
            $tests = [int]$r.total; $failed = [int]$r.failures + [int]$r.errors
            $notRun = [int]$r.'not-run' + [int]$r.skipped + [int]$r.ignored + [int]$r.inconclusive
            if (-not $tests) { $reason = 'no fleet test ran' }
            elseif ($failed -or $notRun) { $reason = "$failed fleet test(s) failed, $notRun not run" }
            elseif ($figures.SuiteExitCode) { $reason = "the fleet suite's pwsh exited with $($figures.SuiteExitCode)" }
        }
    }
    [pscustomobject]@{ Passed = -not $reason; Reason = $reason; Tests = $tests; Failed = $failed; Figures = $figures; OutDir = $fleetOut }
}
