# Get-KernelModule -Path: modinfo, as objects, checked field by field against kmod's modinfo.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
}

Describe 'Get-KernelModule -Path on real modules' -Tag 'Oracle' {
    BeforeAll {
        $script:plain = Get-KernelFixture plain
        $script:xz = Get-KernelFixture xz
        $script:msdos = Join-Path $plain.ModulesDirectory 'kernel/fs/fat/msdos.ko'
        $script:dummy = Join-Path $plain.ModulesDirectory 'kernel/drivers/net/dummy.ko'
    }

    It 'reads msdos.ko as modinfo does' {
        $m = Get-KernelModule -Path $msdos
        $m.Name | Should -Be 'msdos'
        $m.Depends | Should -Be @('fat')
        $m.Aliases | Should -Be @('fs-msdos')
        $m.KernelVersion | Should -Be $plain.Version
        $m.License | Should -Be 'GPL'
        $m.InTree | Should -BeTrue
        $m.Signer | Should -Be (modinfo -F signer $msdos)
        $m.KeyId | Should -Be (modinfo -F sig_key $msdos)
        $m.HashAlgorithm | Should -Be 'sha256'
        $m.PSObject.TypeNames[0] | Should -Be 'LkmPowerShell.KernelModuleFile'
    }

    It 'prints the same text as modinfo, byte for byte' {
        (Get-KernelModule -Path $dummy).ToModinfoText() | Should -BeExactly (((modinfo $dummy) -join "`n") + "`n")
    }

    It 'merges parm and parmtype like modinfo -F parm' {
        $m = Get-KernelModule -Path $dummy
        @($m.Parameters).Count | Should -Be 1
        $m.Parameters[0].Name | Should -Be 'numdummies'
        $m.Parameters[0].Type | Should -Be 'int'
        "$($m.Parameters[0])" | Should -BeExactly (modinfo -F parm $dummy)
    }

    It 'gives every modinfo -F field of <Count> sampled modules of the <Flavour> tree' -ForEach @(
        @{ Flavour = 'plain'; Count = 25 }, @{ Flavour = 'xz'; Count = 25 }
    ) {
        $fixture = Get-KernelFixture $Flavour
        $files = Get-ChildItem -Recurse -File (Join-Path $fixture.ModulesDirectory 'kernel') | Sort-Object FullName
        $step = [Math]::Floor($files.Count / $Count)
        $sample = for ($i = 0; $i -lt $Count; $i++) { $files[$i * $step].FullName }
        $modules = @(Get-KernelModule -Path $sample)
        $modules.Count | Should -Be $Count
        # modinfo prints multi-line values (the signature) as several lines.
        $lines = { param($m, [string] $Field) foreach ($v in @($m.GetField($Field))) { $v -split "`n" } }
        $fields = @($modules | ForEach-Object { $_.Fields.Keys }) + 'parm' + 'filename' | Select-Object -Unique
        $problems = @(foreach ($field in $fields) {
            # One modinfo per field for the whole sample: it prints each file's values in the order
            # the files are given (a process per field and file cost minutes under load).
            $expected = @(modinfo -F $field $sample)
            $actual = @(foreach ($m in $modules) { & $lines $m $field })
            if (($expected -join "`n") -cne ($actual -join "`n")) {
                # The whole differs: file by file, to name the ones that do.
                for ($i = 0; $i -lt $Count; $i++) {
                    if ((@(modinfo -F $field $sample[$i]) -join "`n") -cne (@(& $lines $modules[$i] $field) -join "`n")) { "$($sample[$i]) $field" }
                }
            }
        })
        # The property holds every distinct description, one a line, as modinfo -F lists them
        # (the field itself was compared with modinfo above).
        $problems += @(foreach ($m in $modules) {
            if ("$($m.Description)" -cne ((@($m.GetField('description')) | Select-Object -Unique) -join "`n")) { "$($m.Path) Description property" }
        })
        $problems | Should -BeNullOrEmpty
    }

    It 'takes paths from the pipeline by property name (Get-ChildItem)' {
        $names = Get-ChildItem (Join-Path $plain.ModulesDirectory 'kernel/fs/fat') -Filter '*.ko' | Get-KernelModule | ForEach-Object Name
        $names | Sort-Object | Should -Be @('fat', 'msdos', 'vfat')
    }

    It 'expands wildcards in -Path' {
        (Get-KernelModule -Path (Join-Path $plain.ModulesDirectory 'kernel/fs/fat/*.ko')).Count | Should -Be 3
    }
}

Describe 'Get-KernelModule -Path on bad input' {
    BeforeAll {
        $synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
        $script:msdos = Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/msdos.ko'
        $script:dummy = Join-Path $synthetic.ModulesDirectory 'kernel/drivers/net/dummy.ko'
        $script:work = Join-Path ([IO.Path]::GetTempPath()) "lkm-pester-$PID"
        New-Item -ItemType Directory -Force $work | Out-Null
        New-Item -ItemType Directory -Force (Join-Path $work 'adir') | Out-Null
        [IO.File]::WriteAllText((Join-Path $work 'text.ko'), "this is not an ELF file`n")
        $bytes = [IO.File]::ReadAllBytes($msdos)
        [IO.File]::WriteAllBytes((Join-Path $work 'truncated.ko'), $bytes[0..999])
        # An ELF object that is not a module: rename its .modinfo section.
        $patched = $bytes.Clone()
        $needle = [Text.Encoding]::ASCII.GetBytes(".modinfo`0")
        $at = -1
        for ($i = 0; $i -le $patched.Length - $needle.Length; $i++) {
            $hit = $true
            for ($j = 0; $j -lt $needle.Length; $j++) { if ($patched[$i + $j] -ne $needle[$j]) { $hit = $false; break } }
            if ($hit) { $at = $i; break }
        }
        $patched[$at + 7] = [byte][char]'X'
        [IO.File]::WriteAllBytes((Join-Path $work 'notmodule.ko'), $patched)
    }
    AfterAll { Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue }

    It '<Case> gives ErrorId <ErrorId> and the pipeline goes on' -ForEach @(
        @{ Case = 'a missing file'; File = 'missing.ko'; ErrorId = 'ModuleFileNotFound'; Message = '*no such file*' }
        @{ Case = 'a directory'; File = 'adir'; ErrorId = 'NotARegularFile'; Message = '*a folder, not a regular file*' }
        @{ Case = 'a text file'; File = 'text.ko'; ErrorId = 'InvalidModuleFile'; Message = '*not an ELF file*' }
        @{ Case = 'a truncated module'; File = 'truncated.ko'; ErrorId = 'InvalidModuleFile'; Message = '*beyond the end of the file*' }
        @{ Case = 'an ELF that is not a module'; File = 'notmodule.ko'; ErrorId = 'InvalidModuleFile'; Message = '*not a loadable kernel module*built into the kernel*' }
    ) {
        $out = Get-KernelModule -LiteralPath (Join-Path $work $File), $dummy -ErrorVariable errs -ErrorAction SilentlyContinue
        @($out).Count | Should -Be 1
        $out.Name | Should -Be 'dummy'
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be "$ErrorId,LkmPowerShell.Commands.GetKernelModuleCommand"
        $errs[0].Exception.Message | Should -BeLike $Message
        $errs[0].TargetObject | Should -BeLike "*$File"
    }

    It 'a pattern that matches nothing is an error' {
        Get-KernelModule -Path (Join-Path $work 'nothing*.ko') -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ModuleFileNotFound,*'
    }
}
