#Requires -Version 7.4
<#
.SYNOPSIS
    Boots Debian's real kernels under QEMU (TCG) and runs a test script inside each guest.

.DESCRIPTION
    The real-kernel test bench of LkmPowerShell (issue 3). The build machine's kernel cannot load
    modules, so everything about the running kernel is proven inside a guest:

      * the kernels come from the fixtures cache written by tests/fixtures/get-debian-kernels.sh
        ($env:LKM_FIXTURES, default /var/cache/lkmpowershell; kernels.txt names "plain" and "xz");
      * a busybox initramfs (cached per kernel in <cache>/bench/<version>/) loads virtio, 9p and
        overlay modules, mounts the host root read-only over 9p with a tmpfs overlay on top, gives
        the guest /lib/modules/$(uname -r) from the cache, adds an unprivileged user, and runs the
        guest command in a chroot as root with the repository root (same path as on the host) as
        the working directory;
      * results come back through a second, writable 9p share mounted in the guest at
        /lkmbench/results ($env:LKMBENCH_RESULTS); the guest's exit code is written there by the
        guest's /init, never taken from QEMU's exit status.

    The host's own kernel is never touched: this script only reads module trees (modprobe -d ROOT
    --show-depends) and starts qemu-system-x86_64.

    Exit code 0 only when every selected kernel booted, its guest command exited 0 in time, and it
    produced at least one result file (for Pester runs: an NUnit XML with tests and no failures).

.PARAMETER Kernel
    plain (6.1, uncompressed modules), xz (6.12, xz modules) or all (default).

.PARAMETER GuestScript
    A script to run inside the guest with pwsh. A *.Tests.ps1 file (or a folder of them) runs
    through Pester (guest/Invoke-GuestPester.ps1), which writes NUnit XML to the results share.
    Any other .ps1 runs as `pwsh -File`. Default: guest/Smoke.Tests.ps1.

.PARAMETER Command
    A /bin/sh command line to run inside the guest instead of a pwsh script.

.PARAMETER ResultsDirectory
    Where results land on the host, one folder per kernel flavour. Default: <repo>/out/KernelBench.

.PARAMETER TimeoutSeconds
    Per kernel, boot to power-off. QEMU is killed when it runs out. Default 2400: a safety net against hangs, generous because a folder run has four guests (two with the suites, two for the fleet) and the host's own suites sharing the machine, and a busy shared 2-core machine (load average 28 seen) stretches a ~3 min guest past 7 min.

.PARAMETER Tag
    Pester tags to run (Pester runs only). ExcludeTag likewise.

.PARAMETER ModulePath
    Extra folders put in front of PSModulePath inside the guest (e.g. <repo>/out/Modules).

.PARAMETER MemoryMB
    Guest memory (default 3072). The guest's writable layer is a tmpfs in that memory.

.PARAMETER Cpus
    Guest vCPUs. Default: the host's cores shared out among the guests booted at the same time (at
    least 1 each). Two 2-vCPU guests on two cores ran a suite in 350 s where two 1-vCPU guests took
    233 s: a guest whose vCPUs wait for each other on an oversubscribed host spins in its kernel.

.PARAMETER CpuModel
    QEMU CPU model (default Nehalem: x86-64-v2 without AVX; under TCG pwsh starts about twice as
    fast as with -cpu max, whose AVX2 TCG must emulate).

.PARAMETER Sequential
    Boot the kernels one after the other instead of at the same time.

.PARAMETER NoReadyToRun
    Run the IL-only pwsh tool in the guest instead of the precompiled (crossgen2) copy.

.PARAMETER KernelArguments
    Appended to the guest kernel's command line (console=ttyS0 quiet panic=-1 mitigations=off) for every boot.
    A test file can ask for its own with a '# lkmbench: boot ARGS' line in its first five lines
    (guest/SignatureEnforcement.Tests.ps1 boots with module.sig_enforce=1): run alone it boots
    with them; in a folder run it boots on its own after the folder's other suites, its results
    in <results>/<flavour>-<name>.

.PARAMETER FleetScript
    A host-side Pester folder (or *.Tests.ps1 file) run against both kernels booted at once with a
    network and sshd, over PowerShell remoting over SSH (the fleet wave). Given without
    -GuestScript/-Command, only the fleet wave runs. A folder run of the guest suites
    (-GuestScript <folder>, both kernels) runs tests/KernelBench/fleet after its other waves
    unless -NoFleet is given.

.PARAMETER NoFleet
    No fleet wave in a folder run.

.PARAMETER AllowNoResultFile
    Do not fail when the guest command leaves no result file (for -Command experiments).

.EXAMPLE
    dotnet pwsh -NoProfile -File tests/KernelBench/Invoke-KernelBench.ps1

.EXAMPLE
    dotnet pwsh -NoProfile -File tests/KernelBench/Invoke-KernelBench.ps1 -Kernel all -FleetScript tests/KernelBench/fleet

.EXAMPLE
    dotnet pwsh -NoProfile -File tests/KernelBench/Invoke-KernelBench.ps1 -Kernel xz -Command 'lsmod; cat /sys/module/compression' -AllowNoResultFile
#>
[CmdletBinding(DefaultParameterSetName = 'Script')]
param(
    [ValidateSet('plain', 'xz', 'all')]
    [string] $Kernel = 'all',

    [Parameter(ParameterSetName = 'Script')]
    [string] $GuestScript,

    [Parameter(ParameterSetName = 'Command', Mandatory)]
    [string] $Command,

    [string] $ResultsDirectory,

    [ValidateRange(30, 7200)]
    [int] $TimeoutSeconds = 2400,

    [string[]] $Tag,
    [string[]] $ExcludeTag,
    [string[]] $ModulePath,

    [ValidateRange(512, 16384)]
    [int] $MemoryMB = 3072,
    [ValidateRange(0, 8)]
    [int] $Cpus = 0,
    [string] $CpuModel = 'Nehalem',

    [switch] $Sequential,
    [switch] $NoReadyToRun,

    [switch] $AllowNoResultFile,

    [string] $KernelArguments,

    [string] $FleetScript,
    [switch] $NoFleet,

    # Only get the machine ready (the precompiled pwsh for the guests) and stop: build.ps1 Test
    # runs this beside the build, so the kernel run that follows starts booting sooner.
    [Parameter(ParameterSetName = 'Prepare', Mandatory)]
    [switch] $Prepare
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$PSNativeCommandUseErrorActionPreference = $true
$ProgressPreference = 'SilentlyContinue'

$benchRoot = $PSScriptRoot
$repoRoot = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '../..')).Path
. (Join-Path $benchRoot 'BenchHost.ps1')
. (Join-Path $benchRoot 'TestModules.ps1')
. (Join-Path $benchRoot 'Fleet.ps1')

$startAll = [Diagnostics.Stopwatch]::StartNew()
try {
    # ---- what to run --------------------------------------------------------------------------
    # -FleetScript alone: only the fleet wave. A folder run of both kernels: the fleet folder too.
    $fleetOnly = $FleetScript -and $PSCmdlet.ParameterSetName -eq 'Script' -and -not $GuestScript
    if ($FleetScript -and $NoFleet) { throw 'Bench: -FleetScript and -NoFleet contradict each other.' }
    if (-not $FleetScript -and -not $NoFleet -and $PSCmdlet.ParameterSetName -eq 'Script' -and $GuestScript -and $Kernel -eq 'all' -and
        (Test-Path -LiteralPath $GuestScript -PathType Container) -and
        (Get-ChildItem -LiteralPath (Join-Path $benchRoot 'fleet') -Filter '*.Tests.ps1' -File -ErrorAction Ignore)) {
        $FleetScript = Join-Path $benchRoot 'fleet'
    }
    if ($FleetScript) {
        if (-not (Test-Path -LiteralPath $FleetScript)) { throw "Bench: the fleet script '$FleetScript' does not exist." }
        $FleetScript = (Resolve-Path -LiteralPath $FleetScript).Path
        if ($Kernel -ne 'all') { throw 'Bench: the fleet wave boots both kernels at once; use -Kernel all with -FleetScript.' }
    }
    if ($fleetOnly) {
        $isPester = $false
    } elseif ($PSCmdlet.ParameterSetName -eq 'Script') {
        if (-not $GuestScript) { $GuestScript = Join-Path $benchRoot 'guest/Smoke.Tests.ps1' }
        if (-not (Test-Path -LiteralPath $GuestScript)) { throw "Bench: the guest script '$GuestScript' does not exist." }
        $GuestScript = (Resolve-Path -LiteralPath $GuestScript).Path
        if ($GuestScript -match '^/(dev|proc|sys)(/|$)') {
            throw "Bench: the guest script '$GuestScript' is under a folder the guest replaces with its own (/dev, /proc, /sys); put it in the repository or another host folder."
        }
        $isPester = (Test-Path -LiteralPath $GuestScript -PathType Container) -or $GuestScript -like '*.Tests.ps1'
    } else {
        $isPester = $false
    }
    if (-not $ResultsDirectory) { $ResultsDirectory = Join-Path $repoRoot 'out/KernelBench' }
    $ResultsDirectory = [IO.Path]::GetFullPath($ResultsDirectory, (Get-Location).Path)

    # ---- the machine: tools, kernels, space -----------------------------------------------------
    $fixtures = Get-BenchFixtureRoot
    if ($Prepare) {
        # Only the precompiled pwsh: the tools come with apt, which the fixture script uses at the
        # same time in build.ps1 Test, and two apt runs at once can fail on apt's locks.
        $cacheDir = Get-BenchCacheDirectory -FixtureRoot $fixtures
        if (-not $NoReadyToRun) { $null = Get-BenchReadyToRunPwsh -CacheDirectory $cacheDir }
        Write-Host ("Bench: machine ready in {0:n1} s" -f $startAll.Elapsed.TotalSeconds)
        exit 0
    }
    Assert-BenchTool
    $kernels = @(Get-BenchKernel -FixtureRoot $fixtures -Flavour $Kernel)
    $cacheDir = Get-BenchCacheDirectory -FixtureRoot $fixtures
    Assert-BenchSpace -Path $cacheDir -MinimumMB 200 -What 'the initramfs cache'
    $null = New-Item -ItemType Directory -Force -Path $ResultsDirectory
    Assert-BenchSpace -Path $ResultsDirectory -MinimumMB 50 -What 'the results directory'

    # ---- pwsh, dotnet and modules as the guest will see them (same paths: the host root is shared)
    $pwshDll = Join-Path $PSHOME 'pwsh.dll'
    if (-not (Test-Path -LiteralPath $pwshDll)) { throw "Bench: cannot find pwsh.dll in `$PSHOME ($PSHOME). Run the bench with the repository's pwsh: dotnet tool restore; dotnet pwsh -NoProfile -File $($MyInvocation.MyCommand.Path)" }
    $dotnetRoot = Get-BenchDotnetRoot
    $guestModulePaths = [Collections.Generic.List[string]]::new()
    foreach ($p in @($ModulePath)) { if ($p) { $guestModulePaths.Add([IO.Path]::GetFullPath($p, (Get-Location).Path)) } }
    $repoModules = Join-Path $repoRoot 'out/Modules'
    if (Test-Path -LiteralPath $repoModules) { $guestModulePaths.Add($repoModules) }
    if ($isPester -or $FleetScript) {
        $pesterModules = Get-BenchPesterModulePath -RepoRoot $repoRoot -CacheDirectory $cacheDir
        if ($pesterModules -notin $guestModulePaths) { $guestModulePaths.Add($pesterModules) }
    }

    $guestPwshDir = if ($NoReadyToRun) { $PSHOME } else { Get-BenchReadyToRunPwsh -CacheDirectory $cacheDir }
    if (-not $guestPwshDir) { $guestPwshDir = $PSHOME }
    $guestPwshDll = Join-Path $guestPwshDir 'pwsh.dll'

    # ---- prepare every kernel: initramfs, results share, the files /init reads ----------------
    # A run is one boot per kernel. A test file that needs its own kernel command line (a
    # '# lkmbench: boot ARGS' line, e.g. module.sig_enforce=1) gets a boot of its own: alone when
    # it is the guest script, after the folder's other suites (a second wave) in a folder run.
    $runs = [Collections.Generic.List[object]]::new()
    if ($fleetOnly) {
        # no guest suite: the fleet wave only
    } elseif ($PSCmdlet.ParameterSetName -eq 'Script' -and (Test-Path -LiteralPath $GuestScript -PathType Container)) {
        $runs.Add([pscustomobject]@{ Script = $GuestScript; Args = $KernelArguments; Suffix = ''; Wave = 0 })
        foreach ($f in Get-ChildItem -LiteralPath $GuestScript -Filter '*.Tests.ps1' -File -Recurse | Sort-Object FullName) {
            if ($boot = Get-BenchBootArguments $f.FullName) {
                $runs.Add([pscustomobject]@{ Script = $f.FullName; Args = "$KernelArguments $boot".Trim(); Suffix = '-' + ($f.Name -replace '\.Tests\.ps1$', ''); Wave = 1 })
            }
        }
    } elseif ($PSCmdlet.ParameterSetName -eq 'Script') {
        $runs.Add([pscustomobject]@{ Script = $GuestScript; Args = "$KernelArguments $(Get-BenchBootArguments $GuestScript)".Trim(); Suffix = ''; Wave = 0 })
    } else {
        $runs.Add([pscustomobject]@{ Script = $null; Args = $KernelArguments; Suffix = ''; Wave = 0 })
    }
    $jobs = [Collections.Generic.List[object]]::new()
    $fleetJobs = [Collections.Generic.List[object]]::new()
    $summary = [Collections.Generic.List[object]]::new()
    $fleetKeys = $null
    $fleetVerdict = $null
    try {
        if ($FleetScript) {
            $openSsh = Get-BenchOpenSsh -CacheDirectory $cacheDir
            # The client's key pair and known_hosts, per run, in a folder only this run uses.
            $fleetKeys = Join-Path ([IO.Path]::GetTempPath()) ("lkmbench-fleet-" + [Guid]::NewGuid().ToString('n').Substring(0, 12))
            $null = New-Item -ItemType Directory -Force -Path $fleetKeys
            chmod 0700 $fleetKeys
            $clientPub = New-BenchSshKey -Path (Join-Path $fleetKeys 'id_ed25519') -Comment 'lkmbench-fleet-client'
        }
        foreach ($k in $kernels) {
            $initrd = Get-BenchInitramfs -Kernel $k -CacheDirectory $cacheDir -InitScript (Join-Path $benchRoot 'initramfs/init')
            $moduleImage = Get-BenchModuleImage -Kernel $k -CacheDirectory $cacheDir
            # The audit suite's test modules; a failure here is reported by that suite, not fatal to the others.
            $testModules = try { Get-BenchTestModules -Kernel $k -CacheDirectory $cacheDir -SourceDirectory (Join-Path $benchRoot 'testmodules') }
            catch { Write-Warning $_.Exception.Message; '' }
            foreach ($r in $runs) {
                $sw = [Diagnostics.Stopwatch]::StartNew()
                $outDir = Join-Path $ResultsDirectory ($k.Flavour + $r.Suffix)
                if (Test-Path -LiteralPath $outDir) { Remove-Item -LiteralPath $outDir -Recurse -Force }
                $null = New-Item -ItemType Directory -Force -Path $outDir
                $share = Join-Path ([IO.Path]::GetTempPath()) ("lkmbench-" + [Guid]::NewGuid().ToString('n').Substring(0, 12))
                $null = New-Item -ItemType Directory -Force -Path (Join-Path $share '.bench')
                # The signature suite's module copies (patched, stripped, foreign key), made fresh for each boot.
                $sigCases = try { $null = New-BenchSignatureCases -Kernel $k -Target (Join-Path $share '.bench/signature-cases'); "$script:GuestResults/.bench/signature-cases" }
                catch { Write-Warning $_.Exception.Message; '' }
                $jobs.Add([pscustomobject]@{ Kernel = $k; Initrd = $initrd; ModuleImage = $moduleImage; OutDir = $outDir; Share = $share; Stopwatch = $sw; Wave = $r.Wave
                        Name = $k.Flavour + $r.Suffix; KernelArguments = $r.Args; Port = 0
                        InitramfsSeconds = [math]::Round($sw.Elapsed.TotalSeconds, 1); Run = $null })
                $guestCommand = if ($isPester) {
                    New-BenchPwshCommand -PwshDll $guestPwshDll -Script (Join-Path $benchRoot 'guest/Invoke-GuestPester.ps1') -Arguments (
                        @('-Path', $r.Script) + $(if ($Tag) { @('-Tag', ($Tag -join ',')) } else { @() }) +
                        $(if ($ExcludeTag) { @('-ExcludeTag', ($ExcludeTag -join ',')) } else { @() }))
                } elseif ($PSCmdlet.ParameterSetName -eq 'Script') {
                    New-BenchPwshCommand -PwshDll $guestPwshDll -Script $r.Script -Arguments @()
                } else {
                    $Command
                }
                Write-BenchRunFiles -Share $share -Kernel $k -RepoRoot $repoRoot -DotnetRoot $dotnetRoot -PwshDll $guestPwshDll `
                    -ModulePaths $guestModulePaths -GuestCommand $guestCommand -TestModules $testModules -SignatureCases $sigCases -ModuleImage:([bool]$moduleImage) `
                    -ExtraPaths $(if ($PSCmdlet.ParameterSetName -eq 'Script') { Split-Path -Parent $GuestScript })
            }
            if ($FleetScript) {
                # The fleet guest: a network, sshd, and a guest command that only waits for the host.
                $sw = [Diagnostics.Stopwatch]::StartNew()
                $outDir = Join-Path $ResultsDirectory "$($k.Flavour)-fleet"
                if (Test-Path -LiteralPath $outDir) { Remove-Item -LiteralPath $outDir -Recurse -Force }
                $null = New-Item -ItemType Directory -Force -Path $outDir
                $share = Join-Path ([IO.Path]::GetTempPath()) ("lkmbench-" + [Guid]::NewGuid().ToString('n').Substring(0, 12))
                $null = New-Item -ItemType Directory -Force -Path (Join-Path $share '.bench')
                $envLines = Get-BenchGuestEnvironment -Kernel $k -RepoRoot $repoRoot -DotnetRoot $dotnetRoot -PwshDll $guestPwshDll `
                    -PSModulePath '' -TestModules $testModules -SignatureCases ''
                $guest = Write-BenchFleetGuestFiles -Share $share -Kernel $k -ClientPublicKey $clientPub -EnvironmentLines $envLines `
                    -WaitSeconds $TimeoutSeconds -OpenSsh $openSsh
                Write-BenchRunFiles -Share $share -Kernel $k -RepoRoot $repoRoot -DotnetRoot $dotnetRoot -PwshDll $guestPwshDll `
                    -ModulePaths @() -GuestCommand $guest.Command -TestModules $testModules -SignatureCases '' -Network -ModuleImage:([bool]$moduleImage) `
                    -ExtraPaths @($openSsh.Directory)
                # kernel.kptr_restrict=1 from boot: root sees real addresses in /proc/vmallocinfo, so
                # the audit's module-memory view runs (the fleet suite's ghost-after-plain tests).
                $fleetJobs.Add([pscustomobject]@{ Kernel = $k; Initrd = $initrd; ModuleImage = $moduleImage; OutDir = $outDir; Share = $share; Stopwatch = $sw; Wave = 'fleet'
                        Name = "$($k.Flavour)-fleet"; KernelArguments = "$KernelArguments sysctl.kernel.kptr_restrict=1".Trim(); Port = (Get-BenchFreePort)
                        HostPublicKey = $guest.HostPublicKey; TestModules = $testModules
                        InitramfsSeconds = [math]::Round($sw.Elapsed.TotalSeconds, 1); Run = $null })
            }
        }

        # ---- boot: all kernels at once (default) or one after the other, wave by wave ------------
        $start = {
            param($j, [int] $AtOnce)
            # 0: the host's cores shared out among the guests running at the same time.
            $vcpus = if ($Cpus -gt 0) { $Cpus } else { [math]::Max(1, [math]::Floor([Environment]::ProcessorCount / [math]::Max(1, $AtOnce))) }
            Write-Host "=== kernel bench: booting $($j.Name) $($j.Kernel.Version)$(if ($j.KernelArguments) { " with $($j.KernelArguments)" }) ===" -ForegroundColor Cyan
            $j.Stopwatch.Restart()
            $j.Run = Start-BenchQemu -Kernel $j.Kernel -Initrd $j.Initrd -Share $j.Share -OutDir $j.OutDir `
                -TimeoutSeconds $TimeoutSeconds -MemoryMB $MemoryMB -Cpus $vcpus -CpuModel $CpuModel -KernelArguments $j.KernelArguments -ModuleImage $j.ModuleImage -SshPort $j.Port
            $j.Run.Prefix = "[$($j.Name)] "
            if ($j.Port) { Write-Host "=== $($j.Name): $(Get-BenchHostName $j.Kernel), ssh on 127.0.0.1:$($j.Port) ===" -ForegroundColor Cyan }
        }
        # ---- the fleet wave: both kernels at once, reached from the host over SSH -----------------
        # Booted beside the first wave of guest suites, not after it: the host's cores are shared out
        # among all the guests, and none waits for another to finish (in one CI run the main suites
        # of one kernel ended about 250 s before the other's, and the fleet wave took 520 s after both).
        $fleetVerdict = $null
        $runFleet = {
            param([object[]] $AlsoRunning, [int] $AtOnce)
            Invoke-BenchFleetWave -Jobs $fleetJobs -FleetScript $FleetScript -ResultsDirectory $ResultsDirectory -RepoRoot $repoRoot `
                -DotnetRoot $dotnetRoot -PesterModulePath $pesterModules -KeyDirectory $fleetKeys -Start $start -TimeoutSeconds $TimeoutSeconds `
                -AlsoRunning $AlsoRunning -AtOnce $AtOnce
        }
        foreach ($wave in @($jobs | Group-Object Wave | Sort-Object { [int]$_.Name })) {
            if ($Sequential) {
                foreach ($j in $wave.Group) { & $start $j 1; Wait-BenchQemu @($j.Run) }
            } else {
                $withFleet = $fleetJobs.Count -and -not $fleetVerdict
                $atOnce = $wave.Group.Count + $(if ($withFleet) { $fleetJobs.Count } else { 0 })
                foreach ($j in $wave.Group) { & $start $j $atOnce }
                if ($withFleet) { $fleetVerdict = & $runFleet @($wave.Group | ForEach-Object Run) $atOnce }
                Wait-BenchQemu @($wave.Group | ForEach-Object Run)
            }
        }
        if ($fleetJobs.Count -and -not $fleetVerdict) { $fleetVerdict = & $runFleet @() $fleetJobs.Count }
        if ($fleetJobs.Count) {
            # -Tag/-ExcludeTag select guest suites (RealKernel ...); the fleet folder runs whole.
            foreach ($j in $fleetJobs) {
                # The guest's private host key stays out of the results.
                Remove-Item -LiteralPath (Join-Path $j.Share '.bench/ssh/ssh_host_ed25519_key') -Force -ErrorAction SilentlyContinue
                $jobs.Add($j)
            }
        }

        # ---- results back, verdicts ----------------------------------------------------------
        foreach ($j in $jobs) {
            $k = $j.Kernel
            Get-ChildItem -LiteralPath $j.Share -Force | Copy-Item -Destination $j.OutDir -Recurse -Force
            $verdict = Get-BenchVerdict -Run $j.Run.Result -OutDir $j.OutDir -IsPester ($isPester -and $j.Wave -ne 'fleet') -AllowNoResultFile:($AllowNoResultFile -or $j.Wave -eq 'fleet')
            $verdict | Add-Member -NotePropertyMembers ([ordered]@{
                    Flavour = $j.Name; Version = $k.Version; KernelArguments = $j.KernelArguments; InitramfsSeconds = $j.InitramfsSeconds
                    BootToResultSeconds = $j.Run.Result.Seconds
                    SshReadySeconds = Read-BenchNumber (Join-Path $j.OutDir '.bench/t-sshd')
                })
            $summary.Add($verdict)
            if ($verdict.Passed) {
                Write-Host ("=== {0}: PASSED, boot to result {1:n1} s (guest uptime: root ready {2} s, pwsh ready {3} s, Pester ready {4} s; guest command {5} s){6}" -f $j.Name,
                    $verdict.BootToResultSeconds, $verdict.GuestReadySeconds, $verdict.PwshReadySeconds, $verdict.PesterReadySeconds, $verdict.GuestCommandSeconds, $verdict.TestSummary) -ForegroundColor Green
            } else {
                Write-Host ("=== {0}: FAILED: {1}{2}" -f $j.Name, $verdict.Reason, $verdict.TestSummary) -ForegroundColor Red
                Write-Host "--- console tail ($($j.OutDir)/console.log) ---"
                Get-Content -LiteralPath (Join-Path $j.OutDir 'console.log') -Tail 40 -ErrorAction SilentlyContinue | Write-Host
                Write-Host '--- end of console tail ---'
            }
        }
        if ($fleetVerdict) {
            $f = $fleetVerdict.Figures
            $summary.Add([pscustomobject]@{ Flavour = 'fleet'; Version = ($kernels.Version -join ', '); Passed = $fleetVerdict.Passed; Reason = $fleetVerdict.Reason
                    ExitCode = $f['SuiteExitCode']; GuestReadySeconds = $null; PwshReadySeconds = $null; PesterReadySeconds = $null
                    BootToResultSeconds = $f['WaveSeconds']; Tests = $fleetVerdict.Tests; Failed = $fleetVerdict.Failed; Figures = $f })
            $color = if ($fleetVerdict.Passed) { 'Green' } else { 'Red' }
            Write-Host ("=== fleet: {0}{1}; wave {2} s: boot to both sshd answering {3} s, suite {4} s, power-off {5} s" -f
                $(if ($fleetVerdict.Passed) { 'PASSED' } else { 'FAILED' }), $(if ($fleetVerdict.Reason) { ": $($fleetVerdict.Reason)" }),
                $f['WaveSeconds'], $f['BothReadySeconds'], $f['SuiteSeconds'], $f['PowerOffSeconds']) -ForegroundColor $color
        }
    } finally {
        foreach ($j in @($jobs) + @($fleetJobs)) { Remove-Item -LiteralPath $j.Share -Recurse -Force -ErrorAction SilentlyContinue }
        if ($fleetKeys) { Remove-Item -LiteralPath $fleetKeys -Recurse -Force -ErrorAction SilentlyContinue }
    }

    $total = $startAll.Elapsed.TotalSeconds
    Write-Host ''
    $summary | Format-Table Flavour, Version, Passed, ExitCode, @{n='Ready';e={$_.GuestReadySeconds}}, @{n='Pwsh';e={$_.PwshReadySeconds}}, @{n='Pester';e={$_.PesterReadySeconds}}, @{n='BootToResult';e={$_.BootToResultSeconds}}, Tests, Failed, Reason -AutoSize | Out-String -Width 200 | Write-Host
    Write-Host ("Kernel bench total: {0:n1} s; results in {1}" -f $total, $ResultsDirectory)
    [ordered]@{ TotalSeconds = [math]::Round($total, 1); Kernels = $summary } | ConvertTo-Json -Depth 4 |
        Set-Content -LiteralPath (Join-Path $ResultsDirectory 'summary.json')
    if (@($summary | Where-Object { -not $_.Passed }).Count -gt 0) { exit 1 }
    exit 0
} catch {
    Write-Host "Kernel bench error: $($_.Exception.Message)" -ForegroundColor Red
    if ($VerbosePreference -ne 'SilentlyContinue') { Write-Host $_.ScriptStackTrace }
    exit 2
}
