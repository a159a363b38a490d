# LkmPowerShell across a fleet: both bench guests (Debian 6.1 "plain" and 6.12 "xz") booted at once,
# reached from the host over PowerShell remoting over SSH, the module installed in each guest from
# the .nupkg with Install-PSResource, as an administrator installs it.
# Run on the HOST by tests/KernelBench/Invoke-KernelBench.ps1 (the fleet wave); $env:LKMBENCH_FLEET
# names the connection data (a JSON file: per guest Name, Port, KeyFilePath, KnownHostsFile,
# SSHConnection, TestModules). Nothing here touches the host's kernel: every module command runs in
# a guest through a session.
# Order matters: sessions and the installation first; then the audits, on clean guests booted with
# kernel.kptr_restrict=1 (so the module-memory view runs): clean, then lkmaudit_plain and
# lkmaudit_ghost in the xz guest, then the self-hiding lkmaudit_hide there too (the fleet audit must
# name that guest only), then lkmaudit_plain and lkmaudit_ghost in the plain guest. Those modules
# cannot be unloaded and stay until power-off.
BeforeAll {
    if (-not $env:LKMBENCH_FLEET -or -not (Test-Path -LiteralPath $env:LKMBENCH_FLEET)) {
        throw 'The fleet suite needs the bench''s guests: run it with tests/KernelBench/Invoke-KernelBench.ps1 -Kernel all -FleetScript tests/KernelBench/fleet.'
    }
    $script:fleet = Get-Content -LiteralPath $env:LKMBENCH_FLEET -Raw | ConvertFrom-Json -AsHashtable
    $script:repo = $fleet.RepoRoot
    # The example scripts under test; LKMBENCH_FLEET_EXAMPLES points at another copy of them.
    $script:examples = if ($env:LKMBENCH_FLEET_EXAMPLES) { $env:LKMBENCH_FLEET_EXAMPLES } else { Join-Path $repo 'examples' }
    $script:version = (Import-PowerShellDataFile (Join-Path $repo 'LkmPowerShell.psd1')).ModuleVersion
    # The administrator's workstation has the module too: its formats are what shows remote objects.
    Import-Module (Join-Path $repo "out/LkmPowerShell/$version/LkmPowerShell.psd1") -Force
    $script:guests = [ordered]@{}
    foreach ($g in $fleet.Guests) { $guests[$g.Flavour] = $g }
    $script:names = @($fleet.Guests | ForEach-Object { $_.Name })
    $script:sessions = [ordered]@{}
    $script:timings = [ordered]@{ Guests = [ordered]@{} }
    foreach ($g in $fleet.Guests) { $timings.Guests[$g.Name] = [ordered]@{} }
    $script:allSessions = { @($sessions.Values) }
    $script:highOrAbove = 'High', 'Critical'

    # The module-memory view after another tainting module: an ordinary out-of-tree module
    # (lkmaudit_plain) takes the O and E taint and the kernel's once-per-boot log lines, then
    # lkmaudit_ghost unlinks itself and deletes its sysfs entry. The taint and log views cannot see
    # the ghost; the memory it got (partly what plain's freed .init sections had, whose stale
    # addresses /sys/module/lkmaudit_plain/sections still shows) must still be reported.
    function Assert-GhostAfterPlain([string] $Flavour) {
        $dir = $guests[$Flavour].TestModules
        $dir | Should -Not -BeNullOrEmpty -Because 'the bench builds the test modules with Debian''s linux-headers for each kernel'
        $r = Invoke-Command -Session $sessions[$Flavour] {
            foreach ($name in 'lkmaudit_plain', 'lkmaudit_ghost') {
                $out = insmod (Join-Path $using:dir "$name.ko") 2>&1
                if ($LASTEXITCODE) { throw "insmod $name.ko failed ($LASTEXITCODE): $out" }
            }
            $findings = @(Test-KernelModule)
            $memory = @($findings | Where-Object { $_.Check -eq 'ModuleMemory' -and $_.Message -match 'code that no list shows' })
            [pscustomobject]@{
                Listed = (Get-Content -Raw /proc/modules) -match 'lkmaudit_ghost'
                SysfsEntry = Test-Path /sys/module/lkmaudit_ghost
                AboutGhost = @($findings | Where-Object Subject -EQ 'lkmaudit_ghost' | ForEach-Object Message) -join "`n"
                MemoryCount = $memory.Count
                MemorySeverity = @($memory | ForEach-Object { "$($_.Severity)" }) -join ','
                MemoryTechniques = @($memory | ForEach-Object { $_.Techniques }) -join ','
                Quiet = Test-KernelModule -Quiet
                Report = $findings | Where-Object Check -In 'ModuleMemory', 'KernelLog', 'UnexplainedTaint', 'HiddenFromModuleList' | Format-List | Out-String -Width 250
            }
        }
        Write-Host "$($r.PSComputerName): plain then ghost:`n$($r.Report)"
        $r.Listed | Should -BeFalse
        $r.SysfsEntry | Should -BeFalse
        # The taint and the log name only plain, which is listed: they cannot see the ghost.
        $r.AboutGhost | Should -BeNullOrEmpty
        $r.MemoryCount | Should -Be 1 -Because $r.Report
        $r.MemorySeverity | Should -Be 'Medium'
        $r.MemoryTechniques -split ',' | Should -Contain 'T1014'
        $r.Quiet | Should -BeFalse
    }

    function Measure-Seconds([scriptblock] $Script) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $out = & $Script
        [pscustomobject]@{ Seconds = [math]::Round($sw.Elapsed.TotalSeconds, 2); Output = $out }
    }
}

AfterAll {
    if ($script:sessions) { $sessions.Values | Remove-PSSession -ErrorAction SilentlyContinue }
    if ($script:timings -and $script:fleet) {
        $json = $timings | ConvertTo-Json -Depth 5
        Set-Content -LiteralPath (Join-Path $fleet.ResultsDirectory 'fleet-timings.json') -Value $json
        Write-Host "fleet timings (seconds):`n$json"
    }
}

Describe 'LkmPowerShell over SSH remoting against both bench guests' -Tag 'Fleet' {
    Context 'sessions and the installed module' {
        It 'opens a session to each guest, named after the guest, with known host keys' {
            # One New-PSSession call for both, as an administrator opens a fleet's: PowerShell opens
            # them in parallel, so the figure is each guest's set-up time (a pwsh start there).
            $m = Measure-Seconds { New-PSSession -SSHConnection @($fleet.Guests | ForEach-Object { $_.SSHConnection }) -ErrorAction Stop }
            $timings.SessionSetupBothSeconds = $m.Seconds
            @($m.Output).Count | Should -Be 2
            foreach ($g in $fleet.Guests) {
                $s = @($m.Output | Where-Object ComputerName -EQ $g.Name)
                $s.Count | Should -Be 1 -Because "one session is named $($g.Name)"
                $s[0].State | Should -Be 'Opened'
                $timings.Guests[$g.Name].SessionSetupSeconds = $m.Seconds
                $sessions[$g.Flavour] = $s[0]
            }
            Invoke-Command -Session (& $allSessions) { hostname } | Sort-Object | Should -Be ($names | Sort-Object)
        }

        It 'installs the package in each guest with Install-PSResource, and no other copy is visible there' {
            $package = $fleet.Package
            $package | Should -Not -BeNullOrEmpty -Because 'build.ps1 Package writes out/packages/LkmPowerShell.<version>.nupkg'
            Test-Path -LiteralPath $package | Should -BeTrue
            # Before: remoting sees no LkmPowerShell at all (not the repository's, not out/Modules').
            Invoke-Command -Session (& $allSessions) { @(Get-Module -ListAvailable LkmPowerShell).Count } | Should -Be @(0, 0)
            $m = Measure-Seconds {
                foreach ($s in & $allSessions) {
                    Invoke-Command -Session $s { $null = New-Item -ItemType Directory -Force /root/lkm-packages }
                    Copy-Item -LiteralPath $package -Destination /root/lkm-packages/ -ToSession $s
                }
                # Both guests at once, as an administrator would.
                # A script block of its own: the session's global scope keeps no ErrorActionPreference.
                Invoke-Command -Session (& $allSessions) {
                    & {
                        $ErrorActionPreference = 'Stop'
                        Register-PSResourceRepository -Name LkmLocal -Uri /root/lkm-packages -Trusted
                        Install-PSResource -Name LkmPowerShell -Repository LkmLocal -TrustRepository -Quiet
                    }
                    Import-Module LkmPowerShell -ErrorAction Stop
                    $mod = Get-Module LkmPowerShell
                    [pscustomobject]@{ Version = "$($mod.Version)"; ModuleBase = $mod.ModuleBase
                        Available = @(Get-Module -ListAvailable LkmPowerShell | ForEach-Object ModuleBase) }
                }
            }
            $timings.InstallBothSeconds = $m.Seconds
            $m.Output.PSComputerName | Sort-Object | Should -Be ($names | Sort-Object)
            foreach ($r in $m.Output) {
                $r.Version | Should -Be $version
                $r.ModuleBase | Should -BeLike '/root/.local/share/powershell/Modules/LkmPowerShell/*'
                $r.ModuleBase | Should -Not -BeLike "$repo*"
                @($r.Available) | Should -Be @($r.ModuleBase)
            }
        }
    }

    Context 'objects and errors across the wire' {
        It 'brings the loaded modules of both guests as deserialised objects carrying the guest''s name' {
            $mods = @(Invoke-Command -Session (& $allSessions) { Get-KernelModule })
            $mods.Count | Should -BeGreaterThan 4
            $mods | Group-Object PSComputerName | ForEach-Object Name | Sort-Object | Should -Be ($names | Sort-Object)
            $mods | Where-Object { $_.PSObject.TypeNames[0] -ne 'Deserialized.LkmPowerShell.LoadedKernelModule' } | Should -BeNullOrEmpty
            # The guests' own modules: the 9p share's driver is loaded in both, virtio_net in the fleet boots.
            foreach ($n in $names) { ($mods | Where-Object PSComputerName -EQ $n).Name | Should -Contain '9p' }
            $table = $mods | Format-Table | Out-String -Width 200
            Write-Host $table
            foreach ($column in 'Module', 'Size', 'Used by', 'State', 'PSComputerName') { $table | Should -Match ([regex]::Escape($column)) }
            foreach ($n in $names) { $table | Should -Match ([regex]::Escape($n)) }
        }

        # A loaded module's name misspelt (the remedy suggests the right one) and a module no tree has.
        It 'brings an error raised in a guest with its ErrorId, category and remedy: <Command> <Name>' -TestCases @(
            @{ Command = 'Get-KernelModule'; Name = 'overlai' }
            @{ Command = 'Import-KernelModule'; Name = 'nosuchmodule' }
        ) {
            param($Command, $Name)
            $ev = $null
            # Each guest's own view of the same error, to compare with what arrives.
            $local = @(Invoke-Command -Session (& $allSessions) -ErrorVariable ev -ErrorAction SilentlyContinue {
                    & $using:Command -Name $using:Name -ErrorVariable raised
                    $e = $raised[0]
                    [pscustomobject]@{ Id = $e.FullyQualifiedErrorId; Category = "$($e.CategoryInfo.Category)"; Action = $e.ErrorDetails.RecommendedAction }
                })
            $ev | ForEach-Object { Write-Host "$($_.OriginInfo.PSComputerName): $($_.FullyQualifiedErrorId) [$($_.CategoryInfo.Category)] remedy: $($_.ErrorDetails.RecommendedAction)" }
            @($ev).Count | Should -Be 2 -Because "$Command $Name raises one error in each guest"
            $ev.OriginInfo.PSComputerName | Sort-Object | Should -Be ($names | Sort-Object)
            foreach ($e in $ev) {
                $mine = $local | Where-Object PSComputerName -EQ $e.OriginInfo.PSComputerName
                $e.FullyQualifiedErrorId | Should -Be $mine.Id
                $e.FullyQualifiedErrorId | Should -Match '^\w+,LkmPowerShell\.'
                "$($e.CategoryInfo.Category)" | Should -Be $mine.Category
                "$($e.CategoryInfo.Category)" | Should -Be 'ObjectNotFound'
                $e.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
                $e.ErrorDetails.RecommendedAction | Should -Be $mine.Action
            }
        }

        It 'lists the installed modules of the xz guest (-ListAvailable) across the wire' {
            $s = $sessions['xz']
            # One listing: the objects, then the count the guest saw, as a last object.
            # The whole listing is made there (every module of the tree); the first 500 objects of it
            # cross the wire: sending all 4,230 took 165-180 s under emulation (docs/fleet.md), the
            # same work per object as these.
            $m = Measure-Seconds {
                @(Invoke-Command -Session $s { $all = @(Get-KernelModule -ListAvailable); $all | Select-Object -First 500; [pscustomobject]@{ RemoteCount = $all.Count } })
            }
            $remoteCount = $m.Output[-1].RemoteCount
            $m = [pscustomobject]@{ Seconds = $m.Seconds; Output = @($m.Output | Select-Object -SkipLast 1) }
            $timings.ListAvailable = [ordered]@{ Guest = $s.ComputerName; Seconds = $m.Seconds; Count = $m.Output.Count; RemoteCount = $remoteCount }
            Write-Host ("Get-KernelModule -ListAvailable from {0}: {1} objects in {2} s" -f $s.ComputerName, $m.Output.Count, $m.Seconds)
            $remoteCount | Should -BeGreaterThan 1000
            $m.Output.Count | Should -Be 500
            $m.Output | Select-Object -First 1 | ForEach-Object PSComputerName | Should -Be 'lkmbench-xz'
            # What the listing knew crossed the wire, not what only reading each file gives.
            $first = $m.Output | Select-Object -First 1
            $first.PSObject.TypeNames | Should -Contain 'Deserialized.LkmPowerShell.KernelModuleFile#Deferred'
            $first.Path | Should -Match "/lib/modules/$([regex]::Escape($guests['xz'].KernelVersion))/.+\.ko"
            $first.PSObject.Properties.Name | Should -Not -Contain 'Description'
        }
    }

    Context 'the fleet audit (examples/Invoke-FleetAudit.ps1)' {
        It 'names no host at High on the clean guests' {
            $script:auditScript = Join-Path $examples 'Invoke-FleetAudit.ps1'
            Test-Path -LiteralPath $auditScript | Should -BeTrue
            # Each guest on its own first: the cost of one audit per host.
            $results = foreach ($g in $fleet.Guests) {
                $m = Measure-Seconds { & $auditScript -Session $sessions[$g.Flavour] }
                $timings.Guests[$g.Name].AuditSeconds = $m.Seconds
                $m.Output
            }
            Write-Host ($results | Format-Table ComputerName, Reachable, Highest, FindingCount, Error -AutoSize | Out-String)
            @($results).Count | Should -Be 2
            $results.ComputerName | Sort-Object | Should -Be ($names | Sort-Object)
            $results | Where-Object { -not $_.Reachable } | Should -BeNullOrEmpty
            $results | Where-Object { "$($_.Highest)" -in $highOrAbove } | Should -BeNullOrEmpty -Because ($results.Findings | Out-String)
        }

        It 'finds the clean boots clean with the memory view on: every module-area allocation a listed module''s or BPF''s' {
            # The fleet boots set kernel.kptr_restrict=1 on the kernel command line, so root sees
            # real addresses in /proc/vmallocinfo and the audit's module-memory view runs.
            $r = @(Invoke-Command -Session (& $allSessions) {
                    $all = @(Test-KernelModule)
                    [pscustomobject]@{
                        Restrict = (Get-Content -Raw /proc/sys/kernel/kptr_restrict).Trim()
                        AboveInformational = @($all | Where-Object Severity -GT Informational | ForEach-Object { "$($_.Severity) $($_.Check) $($_.Subject): $($_.Message)" }) -join "`n"
                        MemoryNotRun = @($all | Where-Object { $_.Check -eq 'Coverage' -and $_.Message -match 'module memory' } | ForEach-Object Message) -join "`n"
                        NotBpf = @($all | Where-Object { $_.Check -eq 'ModuleMemory' -and $_.Message -notmatch "is BPF's|are BPF's" } | ForEach-Object Message) -join "`n"
                    }
                })
            $r.PSComputerName | Sort-Object | Should -Be ($names | Sort-Object)
            foreach ($h in $r) {
                $h.Restrict | Should -Be '1'
                $h.AboveInformational | Should -BeNullOrEmpty -Because $h.PSComputerName
                $h.MemoryNotRun | Should -BeNullOrEmpty -Because "with real addresses the memory view runs on $($h.PSComputerName)"
                $h.NotBpf | Should -BeNullOrEmpty -Because $h.PSComputerName
            }
        }

        It 'reports the ghost''s memory on lkmbench-xz when an ordinary out-of-tree module was loaded before it' {
            Assert-GhostAfterPlain 'xz'
        }

        It 'names lkmbench-xz, and not lkmbench-plain, once lkmaudit_hide is loaded in the xz guest' {
            $ko = Join-Path $guests['xz'].TestModules 'lkmaudit_hide.ko'
            $guests['xz'].TestModules | Should -Not -BeNullOrEmpty -Because 'the bench builds the test modules with Debian''s linux-headers for each kernel'
            Invoke-Command -Session $sessions['xz'] {
                $out = insmod $using:ko 2>&1
                if ($LASTEXITCODE) { throw "insmod $($using:ko) failed ($LASTEXITCODE): $out" }
            }
            Invoke-Command -Session $sessions['xz'] { (Get-Content -Raw /proc/modules) -match 'lkmaudit_hide' } | Should -BeFalse
            $results = & $auditScript -Session (& $allSessions)
            Write-Host ($results | Format-Table ComputerName, Reachable, Highest, FindingCount, Error -AutoSize | Out-String)
            $flagged = @($results | Where-Object { "$($_.Highest)" -in $highOrAbove })
            $flagged.ComputerName | Should -Be @('lkmbench-xz')
            ($results | Where-Object ComputerName -EQ 'lkmbench-plain').Reachable | Should -BeTrue
            $xzFindings = ($results | Where-Object ComputerName -EQ 'lkmbench-xz').Findings
            $xzFindings | Where-Object { "$($_.Severity)" -in $highOrAbove } | ForEach-Object PSComputerName | Sort-Object -Unique | Should -Be 'lkmbench-xz'
        }

        It 'reports the ghost''s memory on lkmbench-plain when an ordinary out-of-tree module was loaded before it' {
            Assert-GhostAfterPlain 'plain'
        }
    }

    Context 'the fleet provisioning (examples/Invoke-FleetProvisioning.ps1)' {
        BeforeAll {
            $script:provisionScript = Join-Path $examples 'Invoke-FleetProvisioning.ps1'
            # Present in both kernels' trees and needed by no other module.
            $script:provision = @{ Module = @('dummy'); Parameters = @{ dummy = @{ numdummies = 2 } }; Disabled = @('freevxfs') }
        }

        It 'changes something on the first run' {
            Test-Path -LiteralPath $provisionScript | Should -BeTrue
            $results = foreach ($g in $fleet.Guests) {
                $m = Measure-Seconds { & $provisionScript -Session $sessions[$g.Flavour] @provision }
                $timings.Guests[$g.Name].ProvisioningSeconds = $m.Seconds
                $m.Output
            }
            Write-Host ($results | Format-Table ComputerName, Module, Ensure, Changed -AutoSize | Out-String)
            @($results).Count | Should -Be 4
            $results | Where-Object Changed | Should -Not -BeNullOrEmpty
            ($results | Where-Object Module -EQ 'dummy').Ensure | Sort-Object -Unique | Should -Be 'Present'
            ($results | Where-Object Module -EQ 'freevxfs').Ensure | Sort-Object -Unique | Should -Be 'Disabled'
            Invoke-Command -Session (& $allSessions) { (Get-KernelModule -Name dummy).Name } | Should -Be @('dummy', 'dummy')
            # numdummies=2: two dummy interfaces in each guest.
            Invoke-Command -Session (& $allSessions) { @(Get-ChildItem /sys/class/net -Filter 'dummy*').Count } | Should -Be @(2, 2)
        }

        It 'changes nothing on the second run' {
            $m = Measure-Seconds { & $provisionScript -Session (& $allSessions) @provision }
            $timings.ProvisioningBothSecondRunSeconds = $m.Seconds
            $results = $m.Output
            Write-Host ($results | Format-Table ComputerName, Module, Ensure, Changed -AutoSize | Out-String)
            @($results).Count | Should -Be 4
            $results.ComputerName | Sort-Object -Unique | Should -Be ($names | Sort-Object)
            $results | Where-Object Changed | Should -BeNullOrEmpty
        }

        It 'reports one error for a host that cannot be reached, and finishes the others' {
            $c = $fleet.Guests[0].SSHConnection
            # A port nothing listens on.
            $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
            $down = [ordered]@{ HostName = 'lkmbench-down'; Port = $port; UserName = $c.UserName; KeyFilePath = $c.KeyFilePath; ConnectingTimeout = 60000
                Options = [ordered]@{ HostName = '127.0.0.1'; Port = "$port"; UserKnownHostsFile = $c.Options.UserKnownHostsFile; StrictHostKeyChecking = 'yes' } }
            # The guests' open sessions and the down host's connection in one call, as an admin adds a
            # new machine to the sessions already open: the script opens only the down host's (a
            # session to a guest starts a pwsh there, a minute under TCG).
            # The error stream, not -ErrorVariable: that also collects the errors the script's own
            # New-PSSession raised and the script handled (PowerShell adds those to an outer
            # command's -ErrorVariable too).
            $sw = [Diagnostics.Stopwatch]::StartNew()
            # -ErrorAction Continue: the suite runs with ErrorActionPreference Stop, which would
            # make the script's one error for the unreachable host end the call.
            $all = @(& $provisionScript -Session (& $allSessions) -SSHConnection $down @provision -ErrorAction Continue 2>&1)
            $ev = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $results = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
            $timings.ProvisioningWithUnreachableSeconds = [math]::Round($sw.Elapsed.TotalSeconds, 2)
            Write-Host ($results | Format-Table ComputerName, Module, Ensure, Changed -AutoSize | Out-String)
            Write-Host ($ev | Out-String)
            @($ev).Count | Should -Be 1
            "$($ev[0].TargetObject) $($ev[0].Exception.Message)" | Should -Match 'lkmbench-down'
            $results | Where-Object ComputerName -EQ 'lkmbench-down' | Where-Object Module | Should -BeNullOrEmpty
            $ok = @($results | Where-Object ComputerName -In $names)
            $ok.Count | Should -Be 4
            $ok | Where-Object Changed | Should -BeNullOrEmpty
        }
    }
}
