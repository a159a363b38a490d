# Import-/Remove-KernelModule on the build machine: its kernel has no module support, so all that
# can be shown here is planning (-WhatIf against a fixture tree) and clear refusals. Loading itself
# is proven inside real kernels by tests/KernelBench/guest/WriteSide.Tests.ps1.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:plain = Get-KernelFixture plain
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
        $text = Invoke-WhatIf "Import-KernelModule msdos -Root '$($plain.Root)' -KernelVersion '$($plain.Version)' -WhatIf"
        $expected = modprobe -C /nonexistent -d $plain.Root -S $plain.Version --show-depends msdos
        $expected.Count | Should -Be 2
        foreach ($line in $expected) { $text | Should -BeLike "*insmod $(($line -split ' ')[1])*" }
        $text.IndexOf('fat.ko') | Should -BeLessThan $text.IndexOf('msdos.ko')
    }

    It 'an unknown module is a ModuleNotFound error that says what to check' {
        Import-KernelModule no_such_thing -Root $plain.Root -KernelVersion $plain.Version -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike '*,LkmPowerShell.Commands.ImportKernelModuleCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].Exception.Message | Should -BeLike '*no_such_thing*'
        $errs[0].ErrorDetails.Message | Should -BeLike '*no_such_thing*Get-KernelModule -ListAvailable*'
        $errs[0].ErrorDetails.RecommendedAction | Should -BeLike '*Get-KernelModule -ListAvailable*'
    }

    It 'a modprobe.d alias to a module that is not installed plans nothing, with a warning naming the file and line, as kmod does' {
        # kmod's testsuite case modprobe_show_alias_to_none ("doesn't explode with an alias to nothing").
        $root = Join-Path $TestDrive 'alias-to-none'
        Copy-FixtureTree (Join-Path $plain.Root 'lib') (Join-Path $root 'lib')
        New-Item -ItemType Directory (Join-Path $root 'etc/modprobe.d') | Out-Null
        Set-Content (Join-Path $root 'etc/modprobe.d/bogus.conf') "# comment`nalias mod-simple deaddood"
        $kmod = modprobe -C (Join-Path $root 'etc/modprobe.d') -d $root -S $plain.Version --show-depends mod-simple
        $LASTEXITCODE | Should -Be 0
        $kmod | Should -BeNullOrEmpty
        Import-KernelModule mod-simple -Root $root -KernelVersion $plain.Version -WhatIf -ErrorVariable errs -WarningVariable warns -WarningAction SilentlyContinue
        $errs | Should -BeNullOrEmpty
        $warns.Count | Should -Be 1
        $warns[0].Message | Should -BeLike "*'deaddood'*$root/etc/modprobe.d/bogus.conf:2*"
        $text = Invoke-WhatIf "Import-KernelModule mod-simple -Root '$root' -KernelVersion '$($plain.Version)' -WhatIf"
        $text | Should -Not -BeLike '*insmod*'
    }

    It 'a name with ../ in it is refused' {
        Import-KernelModule '../../etc/passwd' -Root $plain.Root -KernelVersion $plain.Version -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It '-Root without -WhatIf is refused: loading is only into the running kernel' {
        { Import-KernelModule msdos -Root $plain.Root -ErrorAction Stop } | Should -Throw -ErrorId 'RootNeedsWhatIf,LkmPowerShell.Commands.ImportKernelModuleCommand'
    }

    It 'symbols found by Find-KernelSymbol pipe into it as their providing module' {
        $text = Invoke-WhatIf "Find-KernelSymbol fat_time_unix2fat -ListAvailable -Root '$($plain.Root)' | Import-KernelModule -Root '$($plain.Root)' -KernelVersion '$($plain.Version)' -WhatIf"
        $text | Should -BeLike '*insmod */fat.ko*'
    }
}

Describe 'On a kernel without module support' -Tag 'HostKernel' {
    It 'Import-KernelModule refuses plainly, before any syscall' {
        if (Test-Path /proc/modules) { throw 'This test describes a build machine without /proc/modules.' }
        { Import-KernelModule msdos -ErrorAction Stop } | Should -Throw -ErrorId 'KernelModulesUnsupported,LkmPowerShell.Commands.ImportKernelModuleCommand'
    }

    It 'Remove-KernelModule refuses plainly' {
        if (Test-Path /proc/modules) { throw 'This test describes a build machine without /proc/modules.' }
        { Remove-KernelModule msdos -ErrorAction Stop } | Should -Throw -ErrorId 'KernelModulesUnsupported,LkmPowerShell.Commands.RemoveKernelModuleCommand'
    }
}
