# Issue 10's hostile inputs through the cmdlets: each gets its own ErrorId, non-terminating where
# the pipeline can go on, within a generous time bound (a hang fails instead of stalling the run),
# and nothing from outside an untrusted -Root (a canary file beside it) reaches any output.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:manifest = Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1'
    Import-Module $manifest -Force
    $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
    $script:version = '6.1.0-99-amd64'

    # Runs $Script in a fresh runspace with the module loaded; fails when it takes more than
    # $Seconds (a hang). Returns output, errors, and whatever terminated it.
    function Invoke-Bounded([string] $Script, [hashtable] $A = @{}, [int] $Seconds = 30) {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("param(`$A) Import-Module '$manifest'; $Script").AddArgument($A)
            $async = $ps.BeginInvoke()
            $done = $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($Seconds))
            if (-not $done) { $ps.Stop(); throw "did not finish within $Seconds s (a hang): $Script" }
            $terminating = $null
            $output = try { $ps.EndInvoke($async) } catch { $terminating = $_.Exception.InnerException ?? $_.Exception; @() }
            [pscustomobject]@{
                Output      = @($output)
                Errors      = @($ps.Streams.Error)
                Warnings    = @($ps.Streams.Warning | ForEach-Object Message)
                Terminating = $terminating
                Text        = (@($output | Out-String) + @($ps.Streams.Error | ForEach-Object { "$_ $($_.ErrorDetails)" }) + @($ps.Streams.Warning | ForEach-Object Message)) -join "`n"
            }
        }
        finally { $ps.Dispose() }
    }

    function New-HostileRoot {
        $outside = Join-Path ([IO.Path]::GetTempPath()) ("lkm-hostile-" + [guid]::NewGuid().ToString('N'))
        $root = Join-Path $outside 'image'
        $modules = Join-Path $root "lib/modules/$version"
        New-Item -ItemType Directory -Force (Join-Path $modules 'kernel'), (Join-Path $root 'etc/modprobe.d'), (Join-Path $root 'proc') | Out-Null
        $canary = Join-Path $outside 'shadow'
        Set-Content $canary "root:`$y`$CANARY-$([guid]::NewGuid().ToString('N')):19000:0:99999:7:::"
        [pscustomobject]@{ Outside = $outside; Root = $root; Modules = $modules; Canary = $canary }
    }
}

Describe 'Special files are refused at once' {
    BeforeEach { $script:h = New-HostileRoot }
    AfterEach { Remove-Item -Recurse -Force $h.Outside }

    It 'Get-KernelModule -Path on a FIFO: NotARegularFile' {
        mkfifo (Join-Path $h.Outside 'f.ko')
        $r = Invoke-Bounded 'Get-KernelModule -Path $A.Path' @{ Path = (Join-Path $h.Outside 'f.ko') }
        $r.Errors.FullyQualifiedErrorId | Should -Be 'NotARegularFile,LkmPowerShell.Commands.GetKernelModuleCommand'
        $r.Errors[0].CategoryInfo.Category | Should -Be 'InvalidType'
        $r.Terminating | Should -BeNullOrEmpty
    }

    It 'a FIFO named in modules.dep gives the same id under -ListAvailable, and the other modules still come' {
        Copy-Item (Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/fat.ko') (Join-Path $h.Modules 'kernel/fat.ko')
        mkfifo (Join-Path $h.Modules 'kernel/f.ko')
        Set-Content (Join-Path $h.Modules 'modules.dep') "kernel/f.ko:`nkernel/fat.ko:"
        $r = Invoke-Bounded 'Get-KernelModule -ListAvailable -Root $A.Root -KernelVersion $A.V' @{ Root = $h.Root; V = $version }
        $r.Errors.FullyQualifiedErrorId | Should -Be 'NotARegularFile,LkmPowerShell.Commands.GetKernelModuleCommand'
        $r.Output.Name | Should -Be 'fat'
    }

    It 'a FIFO kallsyms under -Root: NotARegularFile' {
        mkfifo (Join-Path $h.Root 'proc/kallsyms')
        $r = Invoke-Bounded 'Find-KernelSymbol -Root $A.Root' @{ Root = $h.Root }
        $r.Errors.FullyQualifiedErrorId | Should -Be 'NotARegularFile,LkmPowerShell.Commands.FindKernelSymbolCommand'
    }

    It 'a FIFO in modprobe.d, /proc/cmdline and osrelease: Import -WhatIf plans on, with a warning' {
        Copy-Item (Join-Path $synthetic.ModulesDirectory 'kernel/drivers/net/dummy.ko') (Join-Path $h.Modules 'kernel/dummy.ko')
        Set-Content (Join-Path $h.Modules 'modules.dep') 'kernel/dummy.ko:'
        mkfifo (Join-Path $h.Root 'etc/modprobe.d/x.conf') (Join-Path $h.Root 'proc/cmdline')
        New-Item -ItemType Directory -Force (Join-Path $h.Root 'proc/sys/kernel') | Out-Null
        mkfifo (Join-Path $h.Root 'proc/sys/kernel/osrelease')
        $r = Invoke-Bounded 'Import-KernelModule dummy -Root $A.Root -KernelVersion $A.V -WhatIf 3>&1' @{ Root = $h.Root; V = $version }
        $r.Terminating | Should -BeNullOrEmpty
        ($r.Text -match 'x\.conf.*FIFO') | Should -BeTrue -Because $r.Text
    }

    It 'a FIFO modules.softdep: Import -WhatIf warns and plans on, does not hang' {
        Copy-Item (Join-Path $synthetic.ModulesDirectory 'kernel/drivers/net/dummy.ko') (Join-Path $h.Modules 'kernel/dummy.ko')
        Set-Content (Join-Path $h.Modules 'modules.dep') 'kernel/dummy.ko:'
        mkfifo (Join-Path $h.Modules 'modules.softdep')
        $r = Invoke-Bounded 'Import-KernelModule dummy -Root $A.Root -KernelVersion $A.V -WhatIf 3>&1' @{ Root = $h.Root; V = $version }
        # modprobe reads modules.softdep as configuration: a file it cannot read is a warning, as in kmod.
        $r.Text | Should -Match 'modules\.softdep: is a FIFO' 
        $r.Errors | Should -BeNullOrEmpty
        $r.Terminating | Should -BeNullOrEmpty
    }

    It 'Update-ModuleDependency with modules.builtin and modules.order as FIFOs and /dev/zero: warnings, index written' {
        Copy-Item (Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/fat.ko') (Join-Path $h.Modules 'kernel/fat.ko')
        mkfifo (Join-Path $h.Modules 'modules.builtin')
        New-Item -ItemType SymbolicLink (Join-Path $h.Modules 'modules.order') -Target /dev/zero | Out-Null
        $out = Join-Path $h.Outside 'out'
        $r = Invoke-Bounded 'Update-ModuleDependency -Root $A.Root -KernelVersion $A.V -OutputPath $A.Out' @{ Root = $h.Root; V = $version; Out = $out }
        $r.Errors | Should -BeNullOrEmpty
        ($r.Warnings -match 'modules\.builtin') | Should -Not -BeNullOrEmpty
        Get-Content (Join-Path $out "lib/modules/$version/modules.dep") | Should -Contain 'kernel/fat.ko:'
    }
}

Describe 'Nothing outside -Root is opened or echoed' {
    BeforeEach { $script:h = New-HostileRoot }
    AfterEach { Remove-Item -Recurse -Force $h.Outside }

    It 'absolute, ".." and linked paths in modules.dep, and a linked modprobe.d file and kallsyms' {
        $depth = '../' * 12
        $relCanary = [IO.Path]::GetRelativePath('/', $h.Canary)
        Set-Content (Join-Path $h.Modules 'modules.dep') "$($h.Canary):`n$depth$($relCanary):`nkernel/link.ko:"
        New-Item -ItemType SymbolicLink (Join-Path $h.Modules 'kernel/link.ko') -Target $h.Canary | Out-Null
        New-Item -ItemType SymbolicLink (Join-Path $h.Root 'etc/modprobe.d/s.conf') -Target $h.Canary | Out-Null
        New-Item -ItemType SymbolicLink (Join-Path $h.Root 'proc/kallsyms') -Target $h.Canary | Out-Null
        $list = Invoke-Bounded 'Get-KernelModule -ListAvailable -Root $A.Root -KernelVersion $A.V' @{ Root = $h.Root; V = $version }
        @($list.Errors).Count | Should -Be 3
        $list.Errors.FullyQualifiedErrorId | Sort-Object -Unique | Should -Be 'ModuleFileNotFound,LkmPowerShell.Commands.GetKernelModuleCommand'
        $plan = Invoke-Bounded 'Import-KernelModule link -Root $A.Root -KernelVersion $A.V -WhatIf 3>&1' @{ Root = $h.Root; V = $version }
        $syms = Invoke-Bounded 'Find-KernelSymbol -Root $A.Root' @{ Root = $h.Root }
        foreach ($r in $list, $plan, $syms) { $r.Text | Should -Not -Match 'CANARY-' }
    }
}

Describe 'Bad arguments and corrupt files: the project''s ErrorId, never a raw exception' {
    BeforeEach { $script:h = New-HostileRoot }
    AfterEach { Remove-Item -Recurse -Force $h.Outside }

    It 'NUL in -LiteralPath: ModuleFileNotFound' {
        $r = Invoke-Bounded 'Get-KernelModule -LiteralPath "/tmp/a`0b.ko"'
        $r.Errors.FullyQualifiedErrorId | Should -Be 'ModuleFileNotFound,LkmPowerShell.Commands.GetKernelModuleCommand'
        $r.Terminating | Should -BeNullOrEmpty
    }

    It 'NUL in -KernelVersion: InvalidKernelVersion' {
        $r = Invoke-Bounded 'Get-KernelModule -ListAvailable -Root $A.Root -KernelVersion "a`0b"' @{ Root = $h.Root }
        $r.Errors.FullyQualifiedErrorId | Should -Be 'InvalidKernelVersion,LkmPowerShell.Commands.GetKernelModuleCommand'
    }

    It "-Parameters 'a=""x': InvalidParameters" {
        $r = Invoke-Bounded 'Import-KernelModule dummy -Parameters ''a="x'' -Root $A.Root -KernelVersion $A.V -WhatIf' @{ Root = $synthetic.Root; V = $synthetic.Version }
        # Statement-terminating (the call is unusable), so it reaches the error stream, not a raw FormatException.
        $r.Errors.FullyQualifiedErrorId | Should -Be 'InvalidParameters,LkmPowerShell.Commands.ImportKernelModuleCommand'
        $r.Errors[0].Exception | Should -BeOfType [FormatException]
    }

    It "-Name '[' gives InvalidNamePattern on every path: <Command>" -ForEach @(
        @{ Command = 'Get-KernelModule -Name "["' ; Id = 'GetKernelModuleCommand' }
        @{ Command = 'Get-KernelModule -ListAvailable -Name "[" -Root $A.Root -KernelVersion $A.V' ; Id = 'GetKernelModuleCommand' }
        @{ Command = 'Find-KernelSymbol -Name "["' ; Id = 'FindKernelSymbolCommand' }
        @{ Command = 'Find-KernelSymbol -ListAvailable -Name "[" -Root $A.Root -KernelVersion $A.V' ; Id = 'FindKernelSymbolCommand' }
        @{ Command = 'Get-KernelModuleConfiguration -Name "[" -Root $A.Root -KernelVersion $A.V' ; Id = 'GetKernelModuleConfigurationCommand' }
        @{ Command = 'Get-KernelModuleBootEntry -Name "[" -Root $A.Root' ; Id = 'GetKernelModuleBootEntryCommand' }
        @{ Command = 'Test-KernelModule -Name "[" -Root $A.Root' ; Id = 'TestKernelModuleCommand' }
    ) {
        $r = Invoke-Bounded $Command @{ Root = $synthetic.Root; V = $synthetic.Version }
        $r.Errors.FullyQualifiedErrorId | Should -Be "InvalidNamePattern,LkmPowerShell.Commands.$Id"
        $r.Output | Should -BeNullOrEmpty
    }

    It "-Name 'snd-[a-z]*' in Get-KernelModuleConfiguration keeps the bracket a range, as the other cmdlets do" {
        $root = Join-Path $TestDrive 'range'
        New-Item -ItemType Directory -Force (Join-Path $root 'etc/modprobe.d') | Out-Null
        Set-Content (Join-Path $root 'etc/modprobe.d/r.conf') "options snd_pcm x=1`noptions snd_1 y=2"
        $r = Invoke-Bounded 'Get-KernelModuleConfiguration -Name "snd-[a-z]*" -Root $A.Root' @{ Root = $root }
        $r.Errors | Should -BeNullOrEmpty
        @($r.Output).Module | Should -Be 'snd_pcm'
    }

    It 'a corrupt modules.dep.bin: InvalidModuleIndex, non-terminating' {
        Set-Content (Join-Path $h.Modules 'modules.dep.bin') ('garbage' * 10)
        $r = Invoke-Bounded '"$($A.Root)", "$($A.Root)" | ForEach-Object { Get-KernelModule -ListAvailable -Root $_ -KernelVersion $A.V }; "went on"' @{ Root = $h.Root; V = $version }
        @($r.Errors).Count | Should -Be 2
        $r.Errors.FullyQualifiedErrorId | Sort-Object -Unique | Should -Be 'InvalidModuleIndex,LkmPowerShell.Commands.GetKernelModuleCommand'
        $r.Output | Should -Contain 'went on'
    }

    It 'a corrupt modules.dep.bin gives the same id to Import-KernelModule -WhatIf' {
        Set-Content (Join-Path $h.Modules 'modules.dep.bin') ('garbage' * 10)
        $r = Invoke-Bounded 'Import-KernelModule dummy -Root $A.Root -KernelVersion $A.V -WhatIf' @{ Root = $h.Root; V = $version }
        $r.Errors.FullyQualifiedErrorId | Should -Be 'InvalidModuleIndex,LkmPowerShell.Commands.ImportKernelModuleCommand'
    }

    It 'a corrupt modules.symbols.bin: InvalidModuleIndex' {
        Set-Content (Join-Path $h.Modules 'modules.symbols.bin') ('garbage' * 10)
        Set-Content (Join-Path $h.Modules 'modules.dep') ''
        $r = Invoke-Bounded 'Find-KernelSymbol -ListAvailable -Name fat_time -Root $A.Root -KernelVersion $A.V' @{ Root = $h.Root; V = $version }
        $r.Errors.FullyQualifiedErrorId | Should -Be 'InvalidModuleIndex,LkmPowerShell.Commands.FindKernelSymbolCommand'
    }

    It 'a corrupt kallsyms: InvalidSymbolTable' {
        Set-Content (Join-Path $h.Root 'proc/kallsyms') "not a kallsyms line`n"
        $r = Invoke-Bounded 'Find-KernelSymbol -Root $A.Root' @{ Root = $h.Root }
        $r.Errors.FullyQualifiedErrorId | Should -Be 'InvalidSymbolTable,LkmPowerShell.Commands.FindKernelSymbolCommand'
        $r.Terminating | Should -BeNullOrEmpty
    }

    It 'an xz bomb: InvalidModuleFile naming the limit' {
        $bomb = Join-Path $h.Outside 'bomb.ko.xz'
        & bash -c "head -c 300M /dev/zero | xz -0 -T1 > '$bomb'"
        $r = Invoke-Bounded 'Get-KernelModule -Path $A.Path' @{ Path = $bomb } -Seconds 120
        $r.Errors.FullyQualifiedErrorId | Should -Be 'InvalidModuleFile,LkmPowerShell.Commands.GetKernelModuleCommand'
        "$($r.Errors[0])" | Should -Match 'more than the limit of 268,435,456 bytes'
    }
}

# Issue 11's speed work, attacked: -ListAvailable checks files on every core and reads each one
# when a property first needs it; -Path reads on every core in input order.
Describe 'Parallel and lazy reading under hostile trees' {
    BeforeEach {
        $script:h = New-HostileRoot
        # 40 good modules with a bad one every few places, in modules.dep's order.
        $fat = Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat'
        $script:order = foreach ($i in 0..39) {
            $name = "m$i"
            $path = Join-Path $h.Modules "kernel/$name.ko"
            switch ($i) {
                5 { mkfifo $path }
                17 { New-Item -ItemType SymbolicLink $path -Target $h.Canary | Out-Null }
                23 { New-Item -ItemType SymbolicLink $path -Target /dev/zero | Out-Null }
                30 { New-Item -ItemType File $path | Out-Null }
                default { Copy-Item (Join-Path $fat 'msdos.ko') $path }
            }
            $name
        }
        Set-Content (Join-Path $h.Modules 'modules.dep') ($order | ForEach-Object { "kernel/$_.ko:" })
    }
    AfterEach { Remove-Item -Recurse -Force $h.Outside }

    It '-ListAvailable: each bad file is one error in its place among the objects, nothing from outside' {
        $r = Invoke-Bounded 'Get-KernelModule -ListAvailable -Root $A.Root -KernelVersion $A.V 2>&1' @{ Root = $h.Root; V = $version }
        $r.Terminating | Should -BeNullOrEmpty
        $seen = $r.Output | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { "error:$([IO.Path]::GetFileNameWithoutExtension($_.TargetObject))" } else { $_.Name } }
        $expected = $order | ForEach-Object { if ($_ -in 'm5', 'm17', 'm23', 'm30') { "error:$_" } else { $_ } }
        $seen | Should -Be $expected
        $ids = $r.Output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] }
        $ids | Should -Be 'NotARegularFile', 'ModuleFileNotFound', 'ModuleFileNotFound', 'InvalidModuleFile'
        $r.Text | Should -Not -Match 'CANARY-'
    }

    It '-ListAvailable objects whose file is damaged, removed or replaced after the listing say so in ReadProblem' {
        # Listed here, not through Invoke-Bounded: its Out-String would read every file at once.
        $listed = Get-KernelModule -ListAvailable -Root $h.Root -KernelVersion $version -ErrorAction SilentlyContinue
        $byName = @{}; foreach ($m in $listed) { $byName[$m.Name] = $m }
        $byName.Count | Should -Be 36
        $file = { param($n) Join-Path $h.Modules "kernel/$n.ko" }
        $bytes = [IO.File]::ReadAllBytes((& $file 'm0'))
        [IO.File]::WriteAllBytes((& $file 'm1'), $bytes[0..99])                      # truncated
        Remove-Item (& $file 'm2')                                                       # deleted
        Remove-Item (& $file 'm3'); mkfifo (& $file 'm3')                                # a FIFO now
        Remove-Item (& $file 'm4'); New-Item -ItemType SymbolicLink (& $file 'm4') -Target $h.Canary | Out-Null  # out of the root
        Copy-Item (Join-Path $synthetic.ModulesDirectory 'kernel/drivers/net/dummy.ko') (& $file 'm6') -Force  # another module
        [IO.File]::WriteAllBytes((& $file 'm7'), [byte[]]::new(0))                      # emptied
        $read = Invoke-Bounded '$A.M | ForEach-Object { [pscustomobject]@{ Name = $_.Name; Problem = $_.ReadProblem; Description = $_.Description; Aliases = @($_.Aliases) } }' @{ M = @('m0', 'm1', 'm2', 'm3', 'm4', 'm6', 'm7' | ForEach-Object { $byName[$_] }) }
        $read.Terminating | Should -BeNullOrEmpty
        $read.Errors | Should -BeNullOrEmpty
        $p = @{}; foreach ($o in $read.Output) { $p[$o.Name] = $o }
        $p['m0'].Problem | Should -BeNullOrEmpty
        $p['m0'].Description | Should -Match 'MS-DOS'
        foreach ($n in 'm1', 'm2', 'm3', 'm4', 'm7') {
            $p[$n].Problem | Should -Not -BeNullOrEmpty -Because "$n was damaged after the listing"
            $p[$n].Description | Should -BeNullOrEmpty
        }
        $p['m3'].Problem | Should -Match 'FIFO'
        $p['m6'].Aliases | Should -Be 'rtnl-link-dummy' # read when first asked: the file as it is then
        # The methods throw what the properties only report.
        { $byName['m2'].ToModinfoText() } | Should -Throw
        $read.Text + ($p.Values | Out-String) | Should -Not -Match 'CANARY-'
    }

    It 'Select-Object -First 1 and a stopped pipeline end a listing and a -Path read at once' {
        $first = Invoke-Bounded 'Get-KernelModule -ListAvailable -Root $A.Root -KernelVersion $A.V | Select-Object -First 1' @{ Root = $synthetic.Root; V = $synthetic.Version } -Seconds 20
        @($first.Output).Count | Should -Be 1
        # The tree's modules, over and over: far more than the 2 s before the stop can read.
        $paths = @(Get-ChildItem -Recurse -File -Filter '*.ko' (Join-Path $synthetic.ModulesDirectory 'kernel') | ForEach-Object FullName) * 100
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("param(`$P) Import-Module '$manifest'; Get-KernelModule -LiteralPath `$P | ForEach-Object { Start-Sleep -Milliseconds 20; `$_ }").AddArgument($paths)
            $async = $ps.BeginInvoke()
            Start-Sleep -Seconds 2
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $ps.Dispose() }
    }
}

Describe 'depmod killed at any moment' -Tag 'Oracle' {
    BeforeAll { $script:plain = Get-KernelFixture plain }

    It 'kill -9 during runs that read, cache and publish; the next run writes kmod''s exact files' {
        $work = Join-Path ([IO.Path]::GetTempPath()) ("lkm-kill-" + [guid]::NewGuid().ToString('N'))
        try {
            # The 135 modules of the 6.1 tree's fs/, with its builtin and order files: kmod's depmod on the same root is the oracle.
            $root = Join-Path $work 'root'
            $modules = Join-Path $root "lib/modules/$version"
            New-Item -ItemType Directory -Force (Join-Path $modules 'kernel') | Out-Null
            Copy-Item -Recurse (Join-Path $plain.ModulesDirectory 'kernel/fs') (Join-Path $modules 'kernel/fs')
            foreach ($f in 'modules.builtin', 'modules.builtin.modinfo', 'modules.order') { Copy-Item (Join-Path $plain.ModulesDirectory $f) $modules }
            & depmod -b $root $version 2>&1 | Out-Null
            $LASTEXITCODE | Should -Be 0
            $out = Join-Path $work 'out'
            $published = Join-Path $out "lib/modules/$version"

            # This pwsh, as its own executable or as 'dotnet pwsh': one process to kill, no launcher in between.
            $exe = [Environment]::ProcessPath
            $pre = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
            # Each run in turn writes the other .bin layout, so every run renders and publishes all its files.
            $script = "Import-Module '$manifest'; while (`$true) { foreach (`$l in 'PreOrder', 'PostOrder') { Update-ModuleDependency -Root '$root' -KernelVersion '$version' -OutputPath '$out' -IndexLayout `$l } }"
            $random = [Random]::new(11)
            $fs = @(Get-ChildItem -Recurse -File -Filter '*.ko' (Join-Path $modules 'kernel'))
            foreach ($round in 1..8) {
                # Some modules touched: read again, their facts appended to the cache.
                foreach ($i in 1..5) { $fs[$random.Next($fs.Count)].LastWriteTimeUtc = [DateTime]::UtcNow.AddSeconds(-$random.Next(1000)) }
                $start = [Diagnostics.ProcessStartInfo]::new($exe)
                foreach ($a in $pre + @('-NoProfile', '-NonInteractive', '-Command', $script)) { $start.ArgumentList.Add($a) }
                $start.RedirectStandardOutput = $start.RedirectStandardError = $true
                $p = [Diagnostics.Process]::Start($start)
                if ($round -eq 1) {
                    # On a loaded machine a fresh pwsh can take longer than the random delays below just to
                    # start: let the first run publish once, so that every later kill can land in a publication.
                    $clock = [Diagnostics.Stopwatch]::StartNew()
                    while (-not (Test-Path (Join-Path $published 'modules.dep')) -and -not $p.HasExited -and $clock.Elapsed.TotalSeconds -lt 180) { Start-Sleep -Milliseconds 100 }
                }
                Start-Sleep -Milliseconds (1500 + $random.Next(3000))
                $p.HasExited | Should -BeFalse -Because "round $round's runs must be killed, not end by themselves: $(if ($p.HasExited) { $p.StandardError.ReadToEnd() })"
                $p.Kill()   # SIGKILL: no finally, no cleanup
                $p.WaitForExit()
                $p.Dispose()
                $left = @(Get-ChildItem -Force -Recurse $out -File -ErrorAction Ignore | Where-Object Name -Match '\.tmp$|journal')
                Write-Host "round $($round): killed; left behind: $(if ($left) { $left.Name -join ', ' } else { 'nothing half-done' })"
            }
            # The killed runs got as far as publishing (else this tested only start-up).
            Join-Path $published 'modules.dep' | Should -Exist
            $r = Update-ModuleDependency -Root $root -KernelVersion $version -OutputPath $out -PassThru -WarningAction SilentlyContinue
            foreach ($name in 'modules.dep', 'modules.dep.bin', 'modules.alias', 'modules.alias.bin', 'modules.softdep', 'modules.symbols',
                'modules.symbols.bin', 'modules.builtin.bin', 'modules.builtin.alias.bin', 'modules.devname') {
                $ours = [IO.File]::ReadAllBytes((Join-Path $published $name))
                $kmod = [IO.File]::ReadAllBytes((Join-Path $modules $name))
                [Linq.Enumerable]::SequenceEqual($ours, $kmod) | Should -BeTrue -Because "$name after runs killed at random moments"
            }
            $r.Modules | Should -Be 135
            # And the run after that takes the files as they are (the cache and record it left are whole).
            (Update-ModuleDependency -Root $root -KernelVersion $version -OutputPath $out -PassThru).Changed | Should -BeFalse
            @(Get-ChildItem -Force $published -Filter '.*.tmp') | Should -BeNullOrEmpty
        }
        finally { Remove-Item -Recurse -Force $work -ErrorAction Ignore }
    }
}
