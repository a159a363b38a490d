# The files the project writes (and the readers added since the first hostile pass) under an
# untrusted -Root, through the cmdlets: nothing written, deleted or read outside the root, no hang
# on a FIFO or device, nothing lost to concurrent writers, no temporaries left after a kill.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:manifest = Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1'
    Import-Module $manifest -Force
    $script:disabled = '00-lkmpowershell-disabled.conf'

    # Runs $Script in a fresh runspace with the module loaded; fails when it takes more than $Seconds (a hang).
    function Invoke-Bounded([string] $Script, [hashtable] $A = @{}, [int] $Seconds = 60) {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("param(`$A) Import-Module '$manifest'; $Script").AddArgument($A)
            $async = $ps.BeginInvoke()
            if (-not $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($Seconds))) { $ps.Stop(); throw "did not finish within $Seconds s (a hang): $Script" }
            $terminating = $null
            $output = try { $ps.EndInvoke($async) } catch { $terminating = $_.Exception.InnerException ?? $_.Exception; @() }
            [pscustomobject]@{
                Output      = @($output)
                Errors      = @($ps.Streams.Error)
                Terminating = $terminating
                Text        = (@($output | Out-String) + @($ps.Streams.Error | ForEach-Object { "$_ $($_.ErrorDetails.RecommendedAction)" }) + @($ps.Streams.Warning | ForEach-Object Message)) -join "`n"
            }
        }
        finally { $ps.Dispose() }
    }

    function New-Root {
        $outside = Join-Path ([IO.Path]::GetTempPath()) ("lkm-writers-" + [guid]::NewGuid().ToString('N'))
        $root = Join-Path $outside 'image'
        New-Item -ItemType Directory -Force (Join-Path $root 'etc'), (Join-Path $outside 'victim') | Out-Null
        $canary = Join-Path $outside 'shadow'
        Set-Content $canary "CANARY-$([guid]::NewGuid().ToString('N'))"
        [pscustomobject]@{ Outside = $outside; Root = $root; Victim = (Join-Path $outside 'victim'); Canary = $canary }
    }

    function Add-Special([string] $Path, [ValidateSet('fifo', 'device', 'link out')] [string] $Kind, [string] $Target) {
        New-Item -ItemType Directory -Force (Split-Path $Path) | Out-Null
        switch ($Kind) {
            'fifo' { & mkfifo $Path }
            'device' { & mknod $Path c 1 5 }   # what /dev/zero is; needs CAP_MKNOD, so these Its are tagged Privileged
            'link out' { New-Item -ItemType SymbolicLink -Path $Path -Target $Target | Out-Null }
        }
        $LASTEXITCODE | Should -Be 0
    }
}

Describe 'Disable- and Enable-KernelModule under -Root stay inside it' {
    It 'a modprobe.d linked out of the root: nothing written or deleted there' {
        $r = New-Root
        try {
            New-Item -ItemType SymbolicLink -Path (Join-Path $r.Root 'etc/modprobe.d') -Target $r.Victim | Out-Null
            $null = Invoke-Bounded 'Disable-KernelModule cramfs -Root $A.Root -ErrorAction SilentlyContinue' @{ Root = $r.Root }
            @(Get-ChildItem -Force $r.Victim) | Should -BeNullOrEmpty
            Set-Content (Join-Path $r.Victim $disabled) -NoNewline ([LkmPowerShell.Engine.Configuration.ModuleDisabler]::Render([string[]] @('cramfs')))
            $null = Invoke-Bounded 'Enable-KernelModule cramfs -Root $A.Root -ErrorAction SilentlyContinue' @{ Root = $r.Root }
            Join-Path $r.Victim $disabled | Should -Exist
        }
        finally { Remove-Item -Recurse -Force $r.Outside -ErrorAction Ignore }
    }

    It 'a <Kind> in place of the project''s file: ConfigurationFileRefused at once for Disable -WhatIf, Disable and Enable' -Tag 'Privileged' -ForEach @(
        @{ Kind = 'fifo' }, @{ Kind = 'device' }, @{ Kind = 'link out' }
    ) {
        $r = New-Root
        try {
            Add-Special (Join-Path $r.Root "etc/modprobe.d/$disabled") $Kind $r.Canary
            foreach ($call in 'Disable-KernelModule cramfs -Root $A.Root -WhatIf', 'Disable-KernelModule cramfs -Root $A.Root', 'Enable-KernelModule cramfs -Root $A.Root') {
                $res = Invoke-Bounded $call @{ Root = $r.Root } -Seconds 30
                $res.Terminating | Should -BeNullOrEmpty
                $res.Errors.Count | Should -Be 1 -Because $call
                $res.Errors[0].FullyQualifiedErrorId | Should -BeLike 'ConfigurationFileRefused,*'
                $res.Errors[0].Exception.Message | Should -BeLike "*$($r.Root)/etc/modprobe.d/$disabled*not a regular file*"
                $res.Errors[0].ErrorDetails.RecommendedAction | Should -BeLike "Move $($r.Root)/etc/modprobe.d/$disabled away*"
                $res.Text | Should -Not -Match 'CANARY-|\.tmp'
            }
        }
        finally { Remove-Item -Recurse -Force $r.Outside -ErrorAction Ignore }
    }

    It 'a file that is not ours: the error names the file, the remedy names the folder used under -Root' {
        $r = New-Root
        try {
            New-Item -ItemType Directory (Join-Path $r.Root 'etc/modprobe.d') | Out-Null
            Set-Content (Join-Path $r.Root "etc/modprobe.d/$disabled") 'blacklist mine'
            $res = Invoke-Bounded 'Disable-KernelModule cramfs -Root $A.Root' @{ Root = $r.Root }
            $res.Errors[0].FullyQualifiedErrorId | Should -BeLike 'ConfigurationWriteFailed,*'
            $res.Errors[0].Exception.Message | Should -BeLike "$($r.Root)/etc/modprobe.d/$disabled exists but was not written by LkmPowerShell*"
            $res.Errors[0].ErrorDetails.RecommendedAction | Should -BeLike "Check that $($r.Root)/etc/modprobe.d is a writable folder*"
        }
        finally { Remove-Item -Recurse -Force $r.Outside -ErrorAction Ignore }
    }

    It 'parallel Disable and Enable (ForEach-Object -Parallel) lose nothing in 10 rounds' {
        $lost = 0
        foreach ($round in 1..10) {
            $r = New-Root
            try {
                Disable-KernelModule keep_me, enable_me -Root $r.Root
                $rootPath = $r.Root
                1..6 | ForEach-Object -ThrottleLimit 6 -Parallel {
                    Import-Module $using:manifest
                    if ($_ -eq 1) { Enable-KernelModule enable_me -Root $using:rootPath } else { Disable-KernelModule "new_$_" -Root $using:rootPath }
                }
                $now = @((Get-Content (Join-Path $r.Root "etc/modprobe.d/$disabled")) -match '^install ' | ForEach-Object { ($_ -split ' ')[1] } | Sort-Object)
                $want = @('keep_me', 'new_2', 'new_3', 'new_4', 'new_5', 'new_6')
                if (Compare-Object $want $now) { $lost++; Write-Host "round $($round): $($now -join ',')" }
                @(Get-ChildItem -Force (Join-Path $r.Root 'etc/modprobe.d') -Filter '.*') | Should -BeNullOrEmpty
            }
            finally { Remove-Item -Recurse -Force $r.Outside -ErrorAction Ignore }
        }
        Write-Host "10 rounds of 6 parallel Disable/Enable: $lost lost an update"
        $lost | Should -Be 0
    }

    It 'Disable and Enable killed with SIGKILL at random moments over 16 rounds: the next run removes every temporary and the file is whole' {
        $r = New-Root
        try {
            $exe = [Environment]::ProcessPath
            $pre = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
            $script = "Import-Module '$manifest'; [Console]::Out.WriteLine('ready'); [Console]::Out.Flush(); `$i = 0; while (`$true) { `$i++; Disable-KernelModule `"m`$(`$i % 7)`" -Root '$($r.Root)'; Enable-KernelModule `"m`$((`$i + 3) % 7)`" -Root '$($r.Root)' }"
            $random = [Random]::new(24)
            $folder = Join-Path $r.Root 'etc/modprobe.d'
            $littered = 0
            foreach ($round in 1..16) {
                $start = [Diagnostics.ProcessStartInfo]::new($exe)
                foreach ($a in $pre + @('-NoProfile', '-NonInteractive', '-Command', $script)) { $start.ArgumentList.Add($a) }
                $start.RedirectStandardOutput = $true
                $p = [Diagnostics.Process]::Start($start)
                $p.StandardOutput.ReadLine() | Should -Be 'ready'
                Start-Sleep -Milliseconds (200 + $random.Next(1500))
                $p.HasExited | Should -BeFalse
                $p.Kill()   # SIGKILL: no finally, no cleanup
                $p.WaitForExit()
                $p.Dispose()
                $left = @(Get-ChildItem -Force $folder -Filter '.*.tmp' -ErrorAction Ignore)
                if ($left) { $littered++ }
                Write-Host "round $($round): killed; temporaries left: $(if ($left) { $left.Name -join ', ' } else { 'none' })"
            }
            # One as an earlier version left it, so the cleanup is proven even if no kill landed between create and rename.
            Set-Content (Join-Path $folder ".$disabled.$([guid]::NewGuid().ToString('N')).tmp") 'half'
            Disable-KernelModule m_after -Root $r.Root
            Write-Host "16 kills: $littered left temporaries; after the next run: $(@(Get-ChildItem -Force $folder -Filter '.*.tmp').Count)"
            @(Get-ChildItem -Force $folder -Filter '.*.tmp') | Should -BeNullOrEmpty
            $text = Get-Content -Raw (Join-Path $folder $disabled)
            $text | Should -BeLike "$([LkmPowerShell.Engine.Configuration.ModuleDisabler]::Header)*install m_after /bin/false`nblacklist m_after`n*"
            $text -split "`n" | Where-Object { $_ -and $_ -notmatch '^#' -and $_ -notmatch '^(install \w+ /bin/false|blacklist \w+)$' } | Should -BeNullOrEmpty
        }
        finally { Remove-Item -Recurse -Force $r.Outside -ErrorAction Ignore }
    }
}

Describe 'Set-KernelModuleParameter under -Root' {
    BeforeEach {
        $script:r = New-Root
        $script:p = Join-Path $r.Root 'sys/module/dummy/parameters'
        New-Item -ItemType Directory -Force $p | Out-Null
        Set-Content (Join-Path $r.Root 'sys/module/dummy/initstate') 'live'
        Set-Content (Join-Path $p 'other') '1'
    }
    AfterEach { Remove-Item -Recurse -Force $r.Outside -ErrorAction Ignore }

    It 'refuses a real write with RootNeedsWhatIf, writes nothing; -WhatIf still plans' {
        Set-Content (Join-Path $p 'numdummies') '1'
        $res = Invoke-Bounded 'Set-KernelModuleParameter dummy numdummies 4 -Root $A.Root' @{ Root = $r.Root }
        # A terminating error of the cmdlet: in a script it ends the statement and lands in the error stream.
        $res.Errors.Count | Should -Be 1
        $res.Errors[0].FullyQualifiedErrorId | Should -BeLike 'RootNeedsWhatIf,*'
        $res.Errors[0].ErrorDetails.RecommendedAction | Should -BeLike '*-WhatIf*'
        Get-Content (Join-Path $p 'numdummies') | Should -Be '1'
        $res = Invoke-Bounded 'Set-KernelModuleParameter dummy numdummies 4 -Root $A.Root -WhatIf -Verbose 4>&1' @{ Root = $r.Root }
        $res.Terminating | Should -BeNullOrEmpty
        $res.Errors | Should -BeNullOrEmpty
        Get-Content (Join-Path $p 'numdummies') | Should -Be '1'
        # The value it already has: no change, nothing to refuse.
        (Invoke-Bounded 'Set-KernelModuleParameter dummy numdummies 1 -Root $A.Root -PassThru' @{ Root = $r.Root }).Output[0].Changed | Should -BeFalse
    }

    It 'a <Kind> as the attribute: nothing read, written or waited on' -Tag 'Privileged' -ForEach @(
        @{ Kind = 'fifo' }, @{ Kind = 'device' }, @{ Kind = 'link out' }
    ) {
        Add-Special (Join-Path $p 'numdummies') $Kind $r.Canary
        $before = Get-Content $r.Canary
        $res = Invoke-Bounded 'Set-KernelModuleParameter dummy numdummies 4 -Root $A.Root -WhatIf' @{ Root = $r.Root } -Seconds 30
        $res.Terminating | Should -BeNullOrEmpty
        $res.Text | Should -Not -Match 'CANARY-'
        Get-Content $r.Canary | Should -Be $before
        $shown = Invoke-Bounded 'Get-KernelModule dummy -Root $A.Root | Select-Object -ExpandProperty Parameters' @{ Root = $r.Root } -Seconds 30
        $shown.Text | Should -Not -Match 'CANARY-'
    }
}

Describe 'Readers under -Root: FIFOs, devices and links out' {
    It 'Get-KernelModuleBootEntry: a <Kind> as a modules-load.d file and as etc/modules' -Tag 'Privileged' -ForEach @(
        @{ Kind = 'fifo' }, @{ Kind = 'device' }, @{ Kind = 'link out' }
    ) {
        $r = New-Root
        try {
            Add-Special (Join-Path $r.Root 'etc/modules-load.d/a.conf') $Kind $r.Canary
            Add-Special (Join-Path $r.Root 'etc/modules') $Kind $r.Canary
            Set-Content (Join-Path $r.Root 'etc/modules-load.d/b.conf') 'loop'
            $res = Invoke-Bounded 'Get-KernelModuleBootEntry -Root $A.Root -WarningAction SilentlyContinue' @{ Root = $r.Root } -Seconds 30
            $res.Output.Name | Should -Be 'loop'
            $res.Text | Should -Not -Match 'CANARY-'
        }
        finally { Remove-Item -Recurse -Force $r.Outside -ErrorAction Ignore }
    }

    It 'Test-KernelModule: a <Kind> as dev/kmsg and proc/vmallocinfo' -Tag 'Privileged' -ForEach @(
        @{ Kind = 'fifo' }, @{ Kind = 'device' }, @{ Kind = 'link out' }
    ) {
        $r = New-Root
        try {
            Set-Content (Join-Path (New-Item -ItemType Directory -Force (Join-Path $r.Root 'proc')) 'modules') ''
            Add-Special (Join-Path $r.Root 'dev/kmsg') $Kind $r.Canary
            Add-Special (Join-Path $r.Root 'proc/vmallocinfo') $Kind $r.Canary
            $res = Invoke-Bounded 'Test-KernelModule -Root $A.Root | Out-String' @{ Root = $r.Root } -Seconds 60
            $res.Terminating | Should -BeNullOrEmpty
            $res.Text | Should -Not -Match 'CANARY-|OutOfMemory'
        }
        finally { Remove-Item -Recurse -Force $r.Outside -ErrorAction Ignore }
    }
}
