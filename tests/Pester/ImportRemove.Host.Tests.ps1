# Import-/Remove-KernelModule on the build machine: its kernel has no module support, so all that
# can be shown here is planning (-WhatIf against the synthetic tree) and clear refusals. Loading itself
# is proven inside real kernels by tests/KernelBench/guest/WriteSide.Tests.ps1.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
    # -WhatIf writes "What if:" lines to the host, not to a stream: run a child pwsh and read its output.
    function Invoke-WhatIf([string] $Command) {
        $repo = Get-RepositoryRoot
        Push-Location $repo
        try { dotnet pwsh -NoProfile -NonInteractive -Command "Import-Module '$repo/LkmPowerShell.psd1'; $Command" 2>&1 | Out-String }
        finally { Pop-Location }
    }
}

Describe 'Import-KernelModule -WhatIf against an offline tree' {
    It 'shows the plan modprobe --show-depends shows' {
        $text = Invoke-WhatIf "Import-KernelModule msdos -Root '$($synthetic.Root)' -KernelVersion '$($synthetic.Version)' -WhatIf"
        $expected = modprobe -C /nonexistent -d $synthetic.Root -S $synthetic.Version --show-depends msdos
        $expected.Count | Should -Be 2
        foreach ($line in $expected) { $text | Should -BeLike "*insmod $(($line -split ' ')[1])*" }
        $text.IndexOf('fat.ko') | Should -BeLessThan $text.IndexOf('msdos.ko')
    }

    It 'an unknown module is a ModuleNotFound error that says what to check' {
        Import-KernelModule no_such_thing -Root $synthetic.Root -KernelVersion $synthetic.Version -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike '*,LkmPowerShell.Commands.ImportKernelModuleCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].Exception.Message | Should -BeLike '*no_such_thing*'
        $errs[0].ErrorDetails.Message | Should -BeLike '*no_such_thing*'
        $errs[0].ErrorDetails.Message | Should -Not -BeLike '*Get-KernelModule -ListAvailable*'
        $errs[0].ErrorDetails.RecommendedAction | Should -BeLike '*Get-KernelModule -ListAvailable*'
    }

    It 'a modprobe.d alias to a module that is not installed plans nothing, with a warning naming the file and line, as kmod does' {
        # kmod's testsuite case modprobe_show_alias_to_none ("doesn't explode with an alias to nothing").
        $root = Join-Path $TestDrive 'alias-to-none'
        Copy-FixtureTree (Join-Path $synthetic.Root 'lib') (Join-Path $root 'lib')
        New-Item -ItemType Directory (Join-Path $root 'etc/modprobe.d') | Out-Null
        Set-Content (Join-Path $root 'etc/modprobe.d/bogus.conf') "# comment`nalias mod-simple deaddood"
        $kmod = modprobe -C (Join-Path $root 'etc/modprobe.d') -d $root -S $synthetic.Version --show-depends mod-simple
        $LASTEXITCODE | Should -Be 0
        $kmod | Should -BeNullOrEmpty
        Import-KernelModule mod-simple -Root $root -KernelVersion $synthetic.Version -WhatIf -ErrorVariable errs -WarningVariable warns -WarningAction SilentlyContinue
        $errs | Should -BeNullOrEmpty
        $warns.Count | Should -Be 1
        $warns[0].Message | Should -BeLike "*'deaddood'*$root/etc/modprobe.d/bogus.conf:2*"
        $text = Invoke-WhatIf "Import-KernelModule mod-simple -Root '$root' -KernelVersion '$($synthetic.Version)' -WhatIf"
        $text | Should -Not -BeLike '*insmod*'
    }

    It 'a name with ../ in it is refused' {
        Import-KernelModule '../../etc/passwd' -Root $synthetic.Root -KernelVersion $synthetic.Version -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It '-Root without -WhatIf is refused: loading is only into the running kernel' {
        { Import-KernelModule msdos -Root $synthetic.Root -ErrorAction Stop } | Should -Throw -ErrorId 'RootNeedsWhatIf,LkmPowerShell.Commands.ImportKernelModuleCommand'
        $err = try { Import-KernelModule msdos -Root $synthetic.Root -KernelVersion $synthetic.Version -ErrorAction Stop } catch { $_ }
        $err.ErrorDetails.RecommendedAction | Should -BeLike '*-WhatIf*'
    }

    It '$WhatIfPreference set in a scope plans as -WhatIf does (not RootNeedsWhatIf)' {
        $text = Invoke-WhatIf "& { `$WhatIfPreference = `$true; Import-KernelModule msdos -Root '$($synthetic.Root)' -KernelVersion '$($synthetic.Version)' }"
        $text | Should -BeLike '*What if:*insmod */fat.ko*'
        $text | Should -BeLike '*What if:*insmod */msdos.ko*'
        $text | Should -Not -BeLike '*RootNeedsWhatIf*'
    }

    It 'symbols found by Find-KernelSymbol pipe into it as their providing module' {
        $text = Invoke-WhatIf "Find-KernelSymbol fat_time_unix2fat -ListAvailable -Root '$($synthetic.Root)' | Import-KernelModule -Root '$($synthetic.Root)' -KernelVersion '$($synthetic.Version)' -WhatIf"
        $text | Should -BeLike '*insmod */fat.ko*'
    }
}

Describe 'The running kernel''s module support decides before any plan' -Tag 'HostKernel' {
    # Both branches run here with -WhatIf and names that no tree has, so neither can load or
    # unload anything: where /proc/modules is absent (a kernel without module support, as on the
    # project's build machines) both cmdlets refuse plainly; where it exists they plan, and say
    # what planning says. Whichever the host is, the test asserts something that could fail.
    BeforeAll { $script:hostHasModules = Test-Path /proc/modules }

    It 'Import-KernelModule plans without module support (a plan is only a plan); else a name no tree has is ModuleNotFound' {
        if (-not $hostHasModules) {
            # -SkipVersionCheck: the synthetic module is built for another release, which the plan would foresee as a refusal.
            # A real run stops at the engine's access check, before any syscall (WriteCallTests.AKernelWithoutModuleSupportStopsTheCallBeforeAnySyscall).
            $fat = Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/fat.ko'
            $text = Invoke-WhatIf "Import-KernelModule -Path '$fat' -SkipVersionCheck -WhatIf"
            $text | Should -BeLike "*What if:*insmod $fat*"
            $text | Should -Not -BeLike '*KernelModulesUnsupported*'
        }
        else {
            { Import-KernelModule lkm_no_such_module_here -WhatIf -ErrorAction Stop } | Should -Throw -ErrorId 'ModuleNotFound,LkmPowerShell.Commands.ImportKernelModuleCommand'
        }
    }

    It 'Remove-KernelModule refuses plainly without module support; else a module that is not loaded is success' {
        if (-not $hostHasModules) {
            { Remove-KernelModule msdos -WhatIf -ErrorAction Stop } | Should -Throw -ErrorId 'KernelModulesUnsupported,LkmPowerShell.Commands.RemoveKernelModuleCommand'
        }
        else {
            $r = Remove-KernelModule lkm_no_such_module_here -WhatIf -PassThru -ErrorAction Stop
            $r.Changed | Should -BeFalse
        }
    }
}

Describe 'Confirmation as PowerShell does it: ShouldProcess, then Force || ShouldContinue' {
    # A fabricated running system under -Root: msdos and fat loaded (fat used by msdos), the
    # synthetic tree, dummy disabled the CIS way. Under -Root nothing can change: a step that gets past
    # the questions is refused with RootNeedsWhatIf, so these tests see which questions were asked.
    BeforeAll {
        $script:fake = Join-Path $TestDrive 'system'
        New-Item -ItemType Directory (Join-Path $fake 'proc'), (Join-Path $fake 'etc/modprobe.d'), (Join-Path $fake 'lib/modules') | Out-Null
        Copy-FixtureTree $synthetic.ModulesDirectory (Join-Path $fake "lib/modules/$($synthetic.Version)")
        Set-Content (Join-Path $fake 'proc/modules') "msdos 20480 0 - Live 0x0000000000000000`nfat 86016 1 msdos, Live 0x0000000000000000"
        Set-Content (Join-Path $fake 'etc/modprobe.d/cis.conf') "install freevxfs /bin/false`nblacklist freevxfs"
        # A runspace without a user interface: a question (ShouldProcess's under -Confirm or
        # $ConfirmPreference, or ShouldContinue) fails there with HostFunctionNotImplemented, so
        # a test sees whether one was asked; no prompt can hang the run.
        function Invoke-NoPrompt([string] $Command) {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module '$(Get-RepositoryRoot)/LkmPowerShell.psd1'; $Command")
                $out = $ps.Invoke()
                [pscustomobject]@{ Output = @($out); Errors = @($ps.Streams.Error) }
            } finally { $ps.Dispose() }
        }
        function Get-Question($Result) { @($Result.Errors | Where-Object FullyQualifiedErrorId -Like 'HostFunctionNotImplemented,*' | ForEach-Object { "$_" }) }
    }

    It 'an ordinary import does not ask (ConfirmImpact Medium), and is refused under -Root only once approved' {
        $r = Invoke-NoPrompt "Import-KernelModule dummy -Root '$fake'"
        Get-Question $r | Should -BeNullOrEmpty
        $r.Errors.FullyQualifiedErrorId | Should -Be 'RootNeedsWhatIf,LkmPowerShell.Commands.ImportKernelModuleCommand'
    }

    It '$ConfirmPreference = Medium makes it ask, through ShouldProcess' {
        $r = Invoke-NoPrompt "`$ConfirmPreference = 'Medium'; Import-KernelModule dummy -Root '$fake'"
        Get-Question $r | Should -BeLike '*Import-KernelModule*insmod */dummy.ko*'
        $r = Invoke-NoPrompt "`$ConfirmPreference = 'Medium'; Remove-KernelModule msdos -Root '$fake'"
        Get-Question $r | Should -BeLike '*rmmod msdos*'
    }

    It '$WhatIfPreference in a scope plans without asking anything, even for the risky switches' {
        $r = Invoke-NoPrompt "& { `$WhatIfPreference = `$true; Import-KernelModule dummy -SkipVersionCheck -Root '$fake'; Remove-KernelModule fat -SkipInUseCheck -Root '$fake'; Import-KernelModule freevxfs -IgnoreDisabled -Root '$fake' }"
        $r.Errors | Should -BeNullOrEmpty
    }

    It '-SkipVersionCheck asks (ShouldContinue) after ShouldProcess, even with -Confirm:$false; -Force skips only that question' {
        $r = Invoke-NoPrompt "Import-KernelModule dummy -SkipVersionCheck -Confirm:`$false -Root '$fake'"
        Get-Question $r | Should -BeLike '*-SkipVersionCheck loads dummy even if it was built for another kernel*'
        $r = Invoke-NoPrompt "Import-KernelModule dummy -SkipVersionCheck -Force -Root '$fake'"
        Get-Question $r | Should -BeNullOrEmpty
        $r.Errors.FullyQualifiedErrorId | Should -Be 'RootNeedsWhatIf,LkmPowerShell.Commands.ImportKernelModuleCommand'
    }

    It '-Force alone asks nothing and forces nothing' {
        $r = Invoke-NoPrompt "Import-KernelModule dummy -Force -Root '$fake'"
        Get-Question $r | Should -BeNullOrEmpty
        $r = Invoke-NoPrompt "Remove-KernelModule fat -Force -Root '$fake'"
        $r.Errors.FullyQualifiedErrorId | Should -Be 'ModuleInUse,LkmPowerShell.Commands.RemoveKernelModuleCommand'
    }

    It '-IgnoreDisabled asks (ShouldContinue) unless -Force; -Confirm:$false does not silence it' {
        $r = Invoke-NoPrompt "Import-KernelModule freevxfs -IgnoreDisabled -Confirm:`$false -Root '$fake'"
        Get-Question $r | Should -BeLike '*freevxfs is disabled on purpose*cis.conf:1*'
        $r = Invoke-NoPrompt "Import-KernelModule freevxfs -IgnoreDisabled -Force -Root '$fake'"
        Get-Question $r | Should -BeNullOrEmpty
        $r.Errors.FullyQualifiedErrorId | Should -Be 'RootNeedsWhatIf,LkmPowerShell.Commands.ImportKernelModuleCommand'
    }

    It 'a disabled module is refused with the remedy in RecommendedAction (from Remedies.resx)' {
        $r = Invoke-NoPrompt "Import-KernelModule freevxfs -Root '$fake'"
        $r.Errors[0].FullyQualifiedErrorId | Should -Be 'ModuleDisabled,LkmPowerShell.Commands.ImportKernelModuleCommand'
        $r.Errors[0].ErrorDetails.RecommendedAction | Should -Be ([LkmPowerShell.ModuleErrors]::Remedy('ModuleDisabled', [object[]]@('freevxfs')))
        $r.Errors[0].ErrorDetails.Message | Should -BeLike '*cis.conf:1*'
        $r.Errors[0].ErrorDetails.Message | Should -Not -BeLike '*Enable-KernelModule*' # said once, in RecommendedAction
    }

    It 'Remove -SkipInUseCheck asks (ShouldContinue) unless -Force' {
        $r = Invoke-NoPrompt "Remove-KernelModule fat -SkipInUseCheck -Confirm:`$false -Root '$fake'"
        Get-Question $r | Should -BeLike '*-SkipInUseCheck removes fat even while it is in use*'
        $r = Invoke-NoPrompt "Remove-KernelModule fat -SkipInUseCheck -Force -Root '$fake'"
        Get-Question $r | Should -BeNullOrEmpty
        $r.Errors.FullyQualifiedErrorId | Should -Be 'RootNeedsWhatIf,LkmPowerShell.Commands.RemoveKernelModuleCommand'
    }
}

Describe 'Remove-KernelModule -Root: offline plans of a removal' {
    BeforeAll {
        $script:fake = Join-Path $TestDrive 'image'
        New-Item -ItemType Directory (Join-Path $fake 'proc'), (Join-Path $fake 'lib/modules'), (Join-Path $fake 'etc/modules-load.d') | Out-Null
        Copy-FixtureTree $synthetic.ModulesDirectory (Join-Path $fake "lib/modules/$($synthetic.Version)")
        Set-Content (Join-Path $fake 'proc/modules') "msdos 20480 0 - Live 0x0000000000000000`nfat 86016 1 msdos, Live 0x0000000000000000"
        Set-Content (Join-Path $fake 'etc/modules-load.d/msdos.conf') "$([LkmPowerShell.Engine.Planner.ModulePersistence]::OwnerMark) (test)`nmsdos"
    }

    It 'shows the steps modprobe -r shows, and the exact files -Persist would delete' {
        $text = Invoke-WhatIf "Remove-KernelModule msdos -RemoveUnusedDependency -Persist -Root '$fake' -KernelVersion '$($synthetic.Version)' -WhatIf"
        $text | Should -BeLike '*What if:*rmmod msdos (target)*'
        $text | Should -BeLike '*What if:*rmmod fat (unused dependency of msdos)*'
        $text | Should -BeLike "*What if:*delete $fake/etc/modules-load.d/msdos.conf*"
        $text | Should -Not -BeLike '*modprobe.d/msdos.conf*'   # there is none to delete
        $text.IndexOf('rmmod msdos') | Should -BeLessThan $text.IndexOf('rmmod fat')
        Test-Path (Join-Path $fake 'etc/modules-load.d/msdos.conf') | Should -BeTrue
    }

    It 'without -WhatIf it is refused before anything changes, with a remedy' {
        $err = try { Remove-KernelModule msdos -Persist -Root $fake -ErrorAction Stop } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'RootNeedsWhatIf,LkmPowerShell.Commands.RemoveKernelModuleCommand'
        $err.ErrorDetails.RecommendedAction | Should -BeLike '*-WhatIf*'
        Test-Path (Join-Path $fake 'proc/modules') | Should -BeTrue
        Test-Path (Join-Path $fake 'etc/modules-load.d/msdos.conf') | Should -BeTrue
    }

    It '-Timeout plans a module used only by processes (modprobe -r --wait), not one used by modules' {
        $busy = Join-Path $TestDrive 'busy'
        New-Item -ItemType Directory (Join-Path $busy 'proc'), (Join-Path $busy 'lib/modules') | Out-Null
        Copy-FixtureTree $synthetic.ModulesDirectory (Join-Path $busy "lib/modules/$($synthetic.Version)")
        Set-Content (Join-Path $busy 'proc/modules') "loop 32768 2 - Live 0x0000000000000000`nmsdos 20480 0 - Live 0x0000000000000000`nfat 86016 1 msdos, Live 0x0000000000000000"
        $err = try { Remove-KernelModule loop -Root $busy -WhatIf -ErrorAction Stop } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ModuleInUse,LkmPowerShell.Commands.RemoveKernelModuleCommand'
        $err.ErrorDetails.RecommendedAction | Should -BeLike '*-Timeout*'
        $text = Invoke-WhatIf "Remove-KernelModule loop -Timeout 5 -Root '$busy' -WhatIf"
        $text | Should -BeLike '*What if:*rmmod loop (target)*'
        $text | Should -Not -BeLike '*ModuleInUse*'
        $err = try { Remove-KernelModule fat -Timeout 5 -Root $busy -WhatIf -ErrorAction Stop } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ModuleInUse,LkmPowerShell.Commands.RemoveKernelModuleCommand'
        "$err" | Should -BeLike '*in use by msdos*'
    }

    It 'an image without proc/modules gets a warning that nothing is loaded there' {
        $r = Remove-KernelModule msdos -Root $synthetic.Root -KernelVersion $synthetic.Version -WhatIf -PassThru -WarningVariable warn 3>$null
        "$warn" | Should -BeLike '*proc/modules does not exist*nothing to remove*'
        $r.State | Should -Be 'NotLoaded'
    }

    It 'a module that is not loaded is success, and -PassThru says nothing changed' {
        $r = Remove-KernelModule dummy -Root $fake -PassThru
        $r.Name | Should -Be 'dummy'
        $r.State | Should -Be 'NotLoaded'
        $r.Changed | Should -BeFalse
    }
}

Describe 'Import-KernelModule -Persist -WhatIf names the files' {
    It 'names each file it would write, by its path under -Root' {
        $fake = Join-Path $TestDrive 'persist'
        New-Item -ItemType Directory (Join-Path $fake 'proc'), (Join-Path $fake 'lib/modules') | Out-Null
        Copy-FixtureTree $synthetic.ModulesDirectory (Join-Path $fake "lib/modules/$($synthetic.Version)")
        Set-Content (Join-Path $fake 'proc/modules') ''
        $text = Invoke-WhatIf "Import-KernelModule dummy -Parameters @{ numdummies = 2 } -Persist -Root '$fake' -WhatIf"
        $text | Should -BeLike "*What if:*write $fake/etc/modules-load.d/dummy.conf, write $fake/etc/modprobe.d/dummy.conf*"
        Test-Path (Join-Path $fake 'etc') | Should -BeFalse
    }
}
