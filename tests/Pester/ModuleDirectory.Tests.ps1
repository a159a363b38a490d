# -ModuleDirectory (kmod 34's depmod -m/--moduledir) and trees kept under /usr/lib/modules: every
# cmdlet that reads or writes a module tree finds it there, and depmod's files are byte-identical.
# The fixture tree is hard-linked under usr/lib/modules of a scratch root (the cache is read-only).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:plain = Get-KernelFixture plain
    $script:kmodFiles = 'modules.dep', 'modules.dep.bin', 'modules.alias', 'modules.alias.bin', 'modules.softdep',
        'modules.symbols', 'modules.symbols.bin', 'modules.builtin.bin', 'modules.builtin.alias.bin', 'modules.devname'

    # Only usr/lib/modules, as an unpacked package of a distribution that ships its modules there.
    $script:usrRoot = Join-Path $TestDrive 'usr-only'
    Copy-FixtureTree $plain.ModulesDirectory (Join-Path $usrRoot "usr/lib/modules/$($plain.Version)")
    # A folder of one's own choosing, as depmod -m kernel-modules would read.
    $script:customRoot = Join-Path $TestDrive 'custom'
    Copy-FixtureTree $plain.ModulesDirectory (Join-Path $customRoot "kernel-modules/$($plain.Version)")

    # kmod 34's depmod takes -m; Debian 12's (kmod 30) does not, so its output for the same tree at
    # the default location (the fixture's own files) is the oracle there.
    $script:kmodHasModuleDir = [int]((depmod --version | Select-Object -First 1) -replace '^kmod version (\d+).*$', '$1') -ge 34
    function Get-KmodIndexDirectory([string] $Root, [string] $ModuleDirectory) {
        if (-not $kmodHasModuleDir) { return $plain.ModulesDirectory }
        $out = Join-Path $TestDrive "kmod-$([guid]::NewGuid())"
        depmod -b $Root -m $ModuleDirectory -o $out $plain.Version
        if ($LASTEXITCODE -ne 0) { throw "depmod -m failed: $LASTEXITCODE" }
        Join-Path $out "$($ModuleDirectory.TrimStart('/'))/$($plain.Version)"
    }

    function Invoke-WhatIf([string] $Command) {
        $repo = Get-RepositoryRoot
        dotnet pwsh -NoProfile -NonInteractive -Command "Import-Module '$repo/LkmPowerShell.psd1'; $Command" 2>&1 | Out-String
    }
}

Describe 'Update-ModuleDependency -ModuleDirectory' -Tag 'Oracle' {
    It 'writes the same bytes as kmod''s depmod into OutputPath/ModuleDirectory/version' {
        $out = Join-Path $TestDrive 'out-usr'
        $r = Update-ModuleDependency -Root $usrRoot -ModuleDirectory /usr/lib/modules -KernelVersion $plain.Version -OutputPath $out -PassThru
        $r.OutputDirectory | Should -Be (Join-Path $out "usr/lib/modules/$($plain.Version)")
        $kmod = Get-KmodIndexDirectory $usrRoot /usr/lib/modules
        foreach ($name in $kmodFiles) {
            (Get-FileHash (Join-Path $r.OutputDirectory $name)).Hash | Should -Be (Get-FileHash (Join-Path $kmod $name)).Hash -Because "$name must be byte-identical to kmod's"
        }
        Test-Path (Join-Path $out 'lib') | Should -BeFalse
    }

    It 'takes a relative folder as inside -Root, as depmod -m does' {
        $out = Join-Path $TestDrive 'out-custom'
        $r = Update-ModuleDependency -Root $customRoot -ModuleDirectory kernel-modules -KernelVersion $plain.Version -OutputPath $out -PassThru
        $r.OutputDirectory | Should -Be (Join-Path $out "kernel-modules/$($plain.Version)")
        $kmod = Get-KmodIndexDirectory $customRoot kernel-modules
        (Get-FileHash (Join-Path $r.OutputDirectory 'modules.dep.bin')).Hash | Should -Be (Get-FileHash (Join-Path $kmod 'modules.dep.bin')).Hash
    }

    It 'finds a tree that only /usr/lib/modules holds without being told, and writes it in place' {
        $root = Join-Path $TestDrive 'usr-inplace'
        Copy-FixtureTree $plain.ModulesDirectory (Join-Path $root "usr/lib/modules/$($plain.Version)")
        $r = Update-ModuleDependency -Root $root -KernelVersion $plain.Version -PassThru
        $r.OutputDirectory | Should -Be (Join-Path $root "usr/lib/modules/$($plain.Version)")
        foreach ($name in $kmodFiles) {
            (Get-FileHash (Join-Path $r.OutputDirectory $name)).Hash | Should -Be (Get-FileHash (Join-Path $plain.ModulesDirectory $name)).Hash
        }
        Test-Path (Join-Path $root 'lib') | Should -BeFalse
    }

    It 'a tree in the other usual folder is named in the KernelNotInstalled error' {
        Update-ModuleDependency -Root $usrRoot -ModuleDirectory /lib/modules -KernelVersion $plain.Version -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'KernelNotInstalled,LkmPowerShell.Commands.UpdateModuleDependencyCommand'
        $errs[0].Exception.Message | Should -BeLike "*usr/lib/modules/$($plain.Version) exists*/usr/lib/modules*"
    }

    It 'refuses a folder that could leave -Root' {
        { Update-ModuleDependency -Root $usrRoot -ModuleDirectory ../x -WhatIf -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,LkmPowerShell.Commands.UpdateModuleDependencyCommand'
    }
}

Describe 'The reading cmdlets under /usr/lib/modules' -Tag 'Oracle' {
    It 'Get-KernelModule -ListAvailable reads the tree there, with and without -ModuleDirectory' {
        foreach ($m in @(Get-KernelModule -ListAvailable msdos -Root $usrRoot -KernelVersion $plain.Version),
                       @(Get-KernelModule -ListAvailable msdos -Root $usrRoot -KernelVersion $plain.Version -ModuleDirectory /usr/lib/modules)) {
            $m.Count | Should -Be 1
            $m[0].Path | Should -Be (Join-Path $usrRoot "usr/lib/modules/$($plain.Version)/kernel/fs/fat/msdos.ko")
            $m[0].ToModinfoText() | Should -BeExactly (((modinfo $m[0].Path) -join "`n") + "`n")
        }
        @(Get-KernelModule -ListAvailable -Root $customRoot -ModuleDirectory /kernel-modules -KernelVersion $plain.Version).Count |
            Should -Be (Get-Content (Join-Path $plain.ModulesDirectory 'modules.dep')).Count
    }

    It 'the default version is the only one installed there' {
        (Get-KernelModule -ListAvailable fat -Root $usrRoot).Path | Should -BeLike "*/usr/lib/modules/$($plain.Version)/*"
    }

    It 'Find-KernelSymbol -ListAvailable finds the provider there' {
        (Find-KernelSymbol fat_time_unix2fat -ListAvailable -Root $customRoot -ModuleDirectory kernel-modules -KernelVersion $plain.Version).Module | Should -Be 'fat'
    }

    It 'Import-KernelModule -WhatIf plans the files there' {
        $text = Invoke-WhatIf "Import-KernelModule msdos -Root '$customRoot' -ModuleDirectory kernel-modules -KernelVersion '$($plain.Version)' -WhatIf"
        $text | Should -BeLike "*insmod $customRoot/kernel-modules/$($plain.Version)/kernel/fs/fat/fat.ko*"
        $text | Should -BeLike "*insmod $customRoot/kernel-modules/$($plain.Version)/kernel/fs/fat/msdos.ko*"
    }

    It '-KernelVersion completes the kernels of that folder' {
        $line = "Get-KernelModule -ListAvailable -Root '$customRoot' -ModuleDirectory kernel-modules -KernelVersion "
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @($plain.Version)
    }

    It '<_> has the one -ModuleDirectory parameter' -ForEach @(
        'Get-KernelModule', 'Find-KernelSymbol', 'Import-KernelModule', 'Remove-KernelModule', 'Update-ModuleDependency',
        'Get-KernelModuleConfiguration', 'Get-KernelModuleBootEntry', 'Set-KernelModuleParameter', 'Test-KernelModule', 'Get-KernelModuleDependency') {
        (Get-Command $_).Parameters['ModuleDirectory'].ParameterType | Should -Be ([string])
    }
}
