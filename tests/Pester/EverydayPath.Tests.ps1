# What an admin types every day, without traps: filters answered from depmod's index, modinfo by
# alias, views that fit 120 columns, the offline context kept, unindexed trees said so, progress on
# long work, and the small ones (modprobe -c to a file, License a list, Fields in a CSV).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:repo = Get-RepositoryRoot
    Import-Module (Join-Path $repo 'LkmPowerShell.psd1') -Force
    # Debian's trees only for the blocks tagged Oracle (fetched in their own BeforeAll), so the
    # hermetic blocks run without them.
    $script:isRead = [LkmPowerShell.KernelModuleFile].GetProperty('IsRead', [Reflection.BindingFlags]'NonPublic,Instance')

    function script:Write-RootFile([string] $Root, [string] $Rel, [string] $Text) {
        $full = Join-Path $Root $Rel
        $null = New-Item -ItemType Directory -Force (Split-Path -Parent $full)
        [IO.File]::WriteAllText($full, $Text)
    }

    # A tree of fat and msdos as a package unpacks it (no index unless asked): the plain kernel's
    # files, or (-Stand-ins) files that only have the names, for what reads no module file.
    function script:New-FatTree([string] $Root, [string] $Version, [switch] $Indexed, [switch] $StandIns) {
        $dir = Join-Path $Root "lib/modules/$Version/kernel/fs/fat"
        $null = New-Item -ItemType Directory -Force $dir
        if ($StandIns) { foreach ($n in 'fat', 'msdos') { [IO.File]::WriteAllBytes((Join-Path $dir "$n.ko"), [byte[]](1..64)) } }
        else { Copy-Item (Join-Path $plain.ModulesDirectory 'kernel/fs/fat/fat.ko'), (Join-Path $plain.ModulesDirectory 'kernel/fs/fat/msdos.ko') $dir }
        if ($Indexed) {
            Write-RootFile $Root "lib/modules/$Version/modules.dep" "kernel/fs/fat/fat.ko:`nkernel/fs/fat/msdos.ko: kernel/fs/fat/fat.ko`n"
        }
        Join-Path $Root "lib/modules/$Version"
    }

    # Runs a script in its own runspace and returns its progress records (the stream a console draws).
    function script:Get-ProgressRecords([string] $Script, [object[]] $Arguments) {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$repo/LkmPowerShell.psd1'; `$ProgressPreference = 'Continue'; $Script")
            foreach ($a in $Arguments) { $null = $ps.AddArgument($a) }
            $null = $ps.Invoke()
            $ps.Streams.Error | ForEach-Object { throw $_ }
            @($ps.Streams.Progress)
        }
        finally { $ps.Dispose() }
    }
}

Describe 'Filtering a tree reads no module file' -Tag 'Oracle' {
    BeforeAll {
        $script:plain = Get-KernelFixture plain
        $script:xz = Get-KernelFixture xz
    }

    It '"who needs fat" over the whole xz tree answers from modules.dep, as grep finds it, reading no file' {
        $all = @(Get-KernelModule -ListAvailable -Root $xz.Root -KernelVersion $xz.Version)
        $needs = @($all | Where-Object RequiredModules -contains fat)
        $grep = @(Get-Content (Join-Path $xz.ModulesDirectory 'modules.dep') | Where-Object { $_ -match ':.*/fat\.ko(\.xz)?(\s|$)' } |
                ForEach-Object { ($_.Split(':')[0] -split '/')[-1] -replace '\.ko.*$', '' -replace '-', '_' })
        $needs.Name | Sort-Object | Should -Be ($grep | Sort-Object)
        $needs.Name | Should -Contain 'msdos'
        $needs.Name | Should -Contain 'vfat'
        @($all | Where-Object { $isRead.GetValue($_) }).Count | Should -Be 0 -Because 'RequiredModules comes from the index'
    }

    It 'FileSize, Aliases and SoftDependencies come from the stat and the index, and equal what the file says' {
        $listed = @(Get-KernelModule -ListAvailable -Root $xz.Root -KernelVersion $xz.Version -Name 'snd_hda*', 'ext4', 'msdos')
        $facts = $listed | ForEach-Object { [pscustomobject]@{ Size = $_.FileSize; Aliases = @($_.Aliases) -join '|'; Soft = @($_.SoftDependencies) -join '|' } }
        @($listed | Where-Object { $isRead.GetValue($_) }).Count | Should -Be 0
        ($listed | Where-Object Name -EQ ext4).SoftDependencies | Should -Be @('pre: crypto_crc32c')
        $read = @(Get-KernelModule -LiteralPath $listed.Path)
        for ($i = 0; $i -lt $listed.Count; $i++) {
            $facts[$i].Size | Should -Be $read[$i].FileSize -Because $listed[$i].Name
            $facts[$i].Aliases | Should -BeExactly (@($read[$i].Aliases) -join '|') -Because $listed[$i].Name
            $facts[$i].Soft | Should -BeExactly (@($read[$i].SoftDependencies) -join '|') -Because $listed[$i].Name
        }
    }

    It 'RequiredModules is modules.dep''s closure in the order modprobe loads it; Depends stays modinfo''s direct list' {
        $m = Get-KernelModule -ListAvailable -Root $plain.Root -KernelVersion $plain.Version -Name snd_hda_intel
        $kmod = @(& modprobe -d $plain.Root -S $plain.Version --show-depends snd_hda_intel | ForEach-Object { ($_ -split ' ')[1] } |
                ForEach-Object { (Split-Path -Leaf $_) -replace '\.ko.*$', '' -replace '-', '_' })
        @($m.RequiredModules) | Should -Be @($kmod | Select-Object -SkipLast 1)
        @($m.Depends).Count | Should -BeLessThan @($m.RequiredModules).Count
        (Get-KernelModule -LiteralPath $m.Path).RequiredModules | Should -BeNullOrEmpty
    }

    It 'a module written after depmod ran is read, not taken from the stale index' {
        $root = Join-Path $TestDrive 'stale'
        $dir = New-FatTree $root '9.9.9-stale' -Indexed
        Set-Content (Join-Path $dir 'modules.alias') "# Aliases extracted from modules themselves.`nalias fs-stale msdos`n"
        $old = [DateTime]::UtcNow.AddDays(-2)
        Get-ChildItem -Recurse -File $dir -Filter *.ko | ForEach-Object { $_.LastWriteTimeUtc = $old.AddDays(-1) }
        (Get-Item (Join-Path $dir 'modules.dep')).LastWriteTimeUtc = $old
        $m = Get-KernelModule -ListAvailable -Root $root -KernelVersion 9.9.9-stale -Name msdos
        @($m.Aliases) | Should -Be @('fs-stale') -Because 'the index is newer than the file: its aliases are used'
        $isRead.GetValue($m) | Should -BeFalse
        (Get-Item (Join-Path $dir 'kernel/fs/fat/msdos.ko')).LastWriteTimeUtc = [DateTime]::UtcNow
        $m = Get-KernelModule -ListAvailable -Root $root -KernelVersion 9.9.9-stale -Name msdos
        @($m.Aliases) | Should -Be @('fs-msdos') -Because 'the file changed after depmod: the file says'
    }
}

Describe 'Get-KernelModule -ListAvailable -Name takes aliases as modinfo does' -Tag 'Oracle' {
    BeforeAll {
        $script:plain = Get-KernelFixture plain
        $script:xz = Get-KernelFixture xz
    }

    It '<Query> gives what modinfo gives, with the alias that matched' -ForEach @(
        @{ Query = 'fs-msdos'; Alias = @('fs-msdos') }
        @{ Query = 'pci:v00008086d0000A0C8sv00001028sd00000A25bc04sc03i00'; Alias = @('pci:v00008086d*sv*sd*bc04sc03i00*', 'pci:v00008086d0000A0C8sv*sd*bc*sc*i*', 'pci:v00008086d0000A0C8sv*sd*bc*sc*i*') }
        @{ Query = 'symbol:fat_time_unix2fat'; Alias = @('symbol:fat_time_unix2fat') }
    ) {
        $ours = @(Get-KernelModule -ListAvailable -Root $xz.Root -KernelVersion $xz.Version -Name $Query -ErrorAction Stop)
        $kmod = @(& modinfo -b $xz.Root -k $xz.Version -F name $Query | Select-Object -Unique)
        $ours.Name | Should -Be $kmod
        $ours.MatchedAlias | Should -Be $Alias
        $isRead.GetValue($ours[0]) | Should -BeFalse
    }

    It 'a built-in module''s alias gives the built-in module (net-pf-10 is ipv6 in 6.12)' {
        $m = Get-KernelModule -ListAvailable -Root $xz.Root -KernelVersion $xz.Version -Name net-pf-10 -ErrorAction Stop
        $m.Name | Should -Be (& modinfo -b $xz.Root -k $xz.Version -F name net-pf-10)
        $m.IsBuiltin | Should -BeTrue
        $m.MatchedAlias | Should -Be 'net-pf-10'
    }

    It 'a name that is nothing''s is still ModuleNotInstalled' {
        $e = $null
        Get-KernelModule -ListAvailable -Root $xz.Root -KernelVersion $xz.Version -Name fs-nosuchfs -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ModuleNotInstalled,*'
    }
}

Describe 'Views fit 120 columns' {
    It 'KernelModuleFile: no constant KernelVersion column, every dependency shown whole' -Tag 'Oracle' {
        $plain = Get-KernelFixture plain
        $m = Get-KernelModule -ListAvailable -Root $plain.Root -KernelVersion $plain.Version -Name snd_hda_codec_realtek
        @($m.Depends).Count | Should -BeGreaterThan 3
        $text = $m | Out-String -Width 120
        $text | Should -Not -Match 'KernelVersion'
        $text | Should -Not -Match ([char]0x2026)
        foreach ($d in $m.Depends) { $text | Should -Match "(^|[\s,])$([regex]::Escape($d))(,|\s|$)" }
        ($text -split "`n" | Measure-Object -Maximum Length).Maximum | Should -BeLessOrEqual 120
    }

    It 'ConfigurationEntry keeps the :line of a long path, shortened from the left' {
        $root = Join-Path $TestDrive 'views-config'
        Write-RootFile $root 'etc/modprobe.d/a-rather-long-file-name-for-the-location-column.conf' "# one`n# two`nblacklist pcspkr`n"
        $text = Get-KernelModuleConfiguration -Root $root -Name pcspkr | Out-String -Width 120
        $text | Should -Match 'location-column\.conf:3'
        $text | Should -Match ([char]0x2026)
    }

    It 'ModuleDisableStatus keeps the :line of DisabledBy' {
        $status = [LkmPowerShell.Engine.Configuration.ModuleDisableStatus]::new('usb_storage', 'Written', $true,
            '/mnt/images/build-2026-12-07/etc/modprobe.d/lkmpowershell-disabled-modules.conf:12', $true, $null, $false, 'x.conf', $null)
        $text = $status | Out-String -Width 120
        $text | Should -Match 'disabled-modules\.conf:12'
        ($text -split "`n" | Measure-Object -Maximum Length).Maximum | Should -BeLessOrEqual 120
    }

    It 'AuditFinding''s Message is broken between words' {
        $message = 'fat is listed in /proc/modules but has no /sys/module/fat directory: its kobject was deleted, which hides it from tools that read sysfs and from every administrator.'
        $finding = [LkmPowerShell.Engine.Audit.AuditFinding]::new('High', 'MissingFromSysfs', 'fat', $message, [string[]]@(), [string[]]@(), $null)
        $text = $finding | Out-String -Width 120
        foreach ($word in $message -split ' ') { $text | Should -Match ([regex]::Escape($word)) }
        ($text -split "`n" | Measure-Object -Maximum Length).Maximum | Should -BeLessOrEqual 120
    }

    It '<Type> read alone is a list' -ForEach @(
        @{ Type = 'KernelRequestSettings'; Make = { [LkmPowerShell.Engine.Configuration.KernelRequestSettings]::new('/sbin/modprobe', $false, $false, '/proc/sys/kernel/modprobe', '/proc/sys/kernel/modules_disabled') }; Label = 'HelperPath' }
        @{ Type = 'AuditReport'; Make = { [LkmPowerShell.Engine.Audit.AuditReport]::new('6.1.0-57-amd64', $null, [string[]]@('fat'), [string[]]@(), [LkmPowerShell.Engine.Audit.AuditFinding[]]@()) }; Label = 'HighestSeverity' }
    ) {
        $text = & $Make | Out-String -Width 120
        $text | Should -Match "(?m)^$Label\s+: "
    }

    It 'ModuleDependencyUpdate read alone is a list' -Tag 'Oracle' {
        $plain = Get-KernelFixture plain
        $root = Join-Path $TestDrive 'views-depmod'
        $null = New-FatTree $root '9.9.9-views'
        $u = Update-ModuleDependency -Root $root -KernelVersion 9.9.9-views -PassThru -WarningAction SilentlyContinue
        ($u | Out-String -Width 120) | Should -Match '(?m)^OutputDirectory\s+: '
    }

    It 'shows PSComputerName when the objects came from several machines' {
        $objects = foreach ($computer in 'web1', 'web2') {
            $o = [pscustomobject]@{ Name = 'fat'; Depends = @(); Description = 'FAT filesystem support'; ReadProblem = $null; PSComputerName = $computer; PSShowComputerName = $true }
            $o.PSObject.TypeNames.Insert(0, 'Deserialized.LkmPowerShell.KernelModuleFile')
            $o
        }
        $text = $objects | Out-String -Width 120
        $text | Should -Match 'web1'
        $text | Should -Match 'web2'
    }

    It 'about_LkmPowerShell names the views' {
        $about = Get-Content -Raw (Join-Path $repo 'en-US/about_LkmPowerShell.help.txt')
        foreach ($view in 'KernelModuleFile', 'LoadedKernelModule', 'ConfigurationEntry', 'ModuleDisableStatus', 'AuditFinding', 'AuditReport', 'ModuleDependencyUpdate', 'KernelRequestSettings') {
            $about | Should -Match "$view\s" -Because "the views section names $view"
        }
        $about | Should -Match 'PSComputerName'
    }
}

Describe 'Objects read from an image keep their root' {
    It 'Find-KernelSymbol -Undefined on a listed module resolves against its root and that root''s System.map' -Tag 'Oracle' {
        $plain = Get-KernelFixture plain
        $root = Join-Path $TestDrive 'image'
        Copy-FixtureTree $plain.ModulesDirectory (Join-Path $root "lib/modules/$($plain.Version)")
        $needs = @(Find-KernelSymbol -LiteralPath (Join-Path $plain.ModulesDirectory 'kernel/fs/fat/msdos.ko') -Undefined -Root $plain.Root -WarningAction SilentlyContinue)
        $fromKernel = @($needs | Where-Object { $_.ProviderKind -ne 'ModuleFile' }).Name
        $fromKernel.Count | Should -BeGreaterThan 0
        Write-RootFile $root "boot/System.map-$($plain.Version)" (($fromKernel | ForEach-Object { "ffffffff81000000 r __ksymtab_$_" }) -join "`n")
        $m = Get-KernelModule -Root $root -ListAvailable -KernelVersion $plain.Version msdos
        $m.Root | Should -Be $root
        $symbols = @($m | Find-KernelSymbol -Undefined -WarningVariable w -WarningAction SilentlyContinue)
        $symbols.Count | Should -Be $needs.Count
        @($symbols | Where-Object ProviderKind -EQ 'Unverified').Name | Should -BeNullOrEmpty
        @($symbols | Where-Object ProviderKind -EQ 'ModuleFile').Module | Select-Object -Unique | Should -Be 'fat'
        @($symbols | Where-Object ProviderKind -EQ 'Kernel').Count | Should -Be $fromKernel.Count
        $w | Should -BeNullOrEmpty
    }

    It 'Test-KernelModule on an image with proc/modules but no sys/ says the sysfs view did not run' {
        $root = Join-Path $TestDrive 'proc-only'
        Write-RootFile $root proc/sys/kernel/osrelease "6.1.0-99-amd64`n"
        Write-RootFile $root proc/sys/kernel/tainted "0`n"
        Write-RootFile $root proc/modules "msdos 20480 0 - Live 0xffffffffc0a1b000`nfat 90112 1 msdos, Live 0xffffffffc09f0000`n"
        $findings = @(Test-KernelModule -Root $root)
        @($findings | Where-Object Check -EQ 'MissingFromSysfs') | Should -BeNullOrEmpty
        @($findings | Where-Object { $_.Check -eq 'Coverage' -and $_.Message -match 'sysfs cross-view did not run' }).Count | Should -Be 1
    }
}

Describe 'A tree depmod has not indexed' {
    BeforeAll {
        $script:unindexed = Join-Path $TestDrive 'unindexed'
        $null = New-FatTree $unindexed '9.9.9-raw' -StandIns
    }

    It 'Import-KernelModule -WhatIf gives the project''s error, with Update-ModuleDependency as the remedy' {
        $e = $null
        Import-KernelModule -Root $unindexed -KernelVersion 9.9.9-raw -Name msdos -WhatIf -ErrorVariable e -ErrorAction SilentlyContinue
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ModuleTreeNotIndexed,*'
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e[0].ErrorDetails.RecommendedAction | Should -BeLike '*Update-ModuleDependency -Root*9.9.9-raw*'
    }

    It 'Find-KernelSymbol -ListAvailable says the tree is not indexed, never "no module exports it"' {
        $e = $null
        Find-KernelSymbol -Root $unindexed -KernelVersion 9.9.9-raw -ListAvailable fat_time_unix2fat -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ModuleTreeNotIndexed,*'
        $e[0].Exception.Message | Should -Match 'modules\.symbols'
    }
}

Describe 'Long work shows progress' {
    It 'Get-KernelModule -LiteralPath over many files writes progress' -Tag 'Oracle' {
        $plain = Get-KernelFixture plain
        $files = @(Get-ChildItem -Recurse -File (Join-Path $plain.ModulesDirectory 'kernel/fs') -Filter *.ko | Select-Object -First 120).FullName
        $records = Get-ProgressRecords 'Get-KernelModule -LiteralPath $args[0] | Out-Null' @(, $files)
        @($records | Where-Object RecordType -EQ 'Processing').Count | Should -BeGreaterThan 10
        $records[-1].RecordType | Should -Be 'Completed'
    }

    It 'Test-KernelModule writes progress' {
        $root = Join-Path $TestDrive 'audit-progress'
        Write-RootFile $root proc/sys/kernel/osrelease "6.1.0-99-amd64`n"
        Write-RootFile $root proc/modules "msdos 20480 0 - Live 0xffffffffc0a1b000`nfat 90112 1 msdos, Live 0xffffffffc09f0000`n"
        $records = Get-ProgressRecords 'Test-KernelModule -Root $args[0] | Out-Null' @($root)
        @($records | Where-Object { $_.RecordType -eq 'Processing' -and $_.StatusDescription -match 'fat' }).Count | Should -BeGreaterThan 0
        $records[-1].RecordType | Should -Be 'Completed'
    }
}

Describe 'Small ones' {
    It '-AsText ends without the newline that Set-Content adds' {
        $root = Join-Path $TestDrive 'asText-hermetic'
        Write-RootFile $root 'etc/modprobe.d/site.conf' "blacklist pcspkr`n"
        $text = Get-KernelModuleConfiguration -Root $root -AsText
        $text | Should -BeLike "blacklist pcspkr`n*Dumping indexes now:`n"
        $file = Join-Path $TestDrive 'hermetic.txt'
        $text | Set-Content $file
        [IO.File]::ReadAllText($file) | Should -BeExactly "$text`n"
        [IO.File]::ReadAllText($file) | Should -Not -BeLike "*`n`n`n"
    }

    It 'Get-KernelModuleConfiguration -AsText | Set-Content writes exactly what modprobe -c prints' -Tag 'Oracle' {
        $root = Join-Path $TestDrive 'asText'
        Write-RootFile $root 'etc/modprobe.d/site.conf' "blacklist pcspkr`noptions snd-hda-intel index=1`n"
        # kmod reads this machine's /proc/cmdline whatever -d says: the root gets the same one.
        Write-RootFile $root 'proc/cmdline' ([IO.File]::ReadAllText('/proc/cmdline'))
        $file = Join-Path $TestDrive 'config.txt'
        Get-KernelModuleConfiguration -Root $root -AsText | Set-Content $file
        $dirs = '/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/lib/modprobe.d' | ForEach-Object { '-C'; "$root$_" }
        $kmod = Join-Path $TestDrive 'kmod.txt'
        & /bin/sh -c "modprobe -c $($dirs -join ' ') -d '$root' > '$kmod' 2>/dev/null"
        [IO.File]::ReadAllText($file) | Should -BeExactly ([IO.File]::ReadAllText($kmod))
    }

    It 'License is a list, as Author is' -Tag 'Oracle' {
        $plain = Get-KernelFixture plain
        $m = Get-KernelModule -LiteralPath (Join-Path $plain.ModulesDirectory 'kernel/fs/fat/fat.ko')
        $m.License.GetType().Name | Should -Be 'ValueList'
        @($m.License) | Should -Be @('GPL')
    }

    It 'Export-Csv writes the modinfo fields, not a type name' -Tag 'Oracle' {
        $plain = Get-KernelFixture plain
        $m = Get-KernelModule -LiteralPath (Join-Path $plain.ModulesDirectory 'kernel/fs/fat/msdos.ko')
        $csv = $m | ConvertTo-Csv | ConvertFrom-Csv
        $csv.Fields | Should -Not -Match 'System\.|Dictionary'
        $csv.Fields | Should -Match 'license=GPL'
        $csv.Fields | Should -Match 'depends=fat'
        $m.Fields['alias'] | Should -Be 'fs-msdos'
    }

    It '<Command> -Name completes module names' -Tag 'Oracle' -ForEach @(
        @{ Command = 'Get-KernelModuleConfiguration' }, @{ Command = 'Get-KernelModuleBootEntry' }
    ) {
        $plain = Get-KernelFixture plain
        $line = "$Command -Root '$($plain.Root)' -Name msdo"
        $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $result.CompletionMatches.CompletionText | Should -Contain 'msdos'
    }
}

Describe 'rmmod and insmod need no module tree' {
    # A kernel with /proc/modules but no /lib/modules/<release> (a custom kernel, a container):
    # kmod's rmmod and insmod never read the tree, and neither do these.
    BeforeAll {
        $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
        $script:noTree = Join-Path $TestDrive 'no-tree'
        Write-RootFile $noTree 'proc/modules' "dummy 16384 0 - Live 0x0000000000000000`n"
        Write-RootFile $noTree 'proc/sys/kernel/osrelease' "$($synthetic.Version)`n"
        $script:fatFile = Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/fat.ko'
        function script:Invoke-WhatIf([string] $Command) {
            Push-Location $repo
            try { dotnet pwsh -NoProfile -NonInteractive -Command "Import-Module '$repo/LkmPowerShell.psd1'; $Command" 2>&1 | Out-String }
            finally { Pop-Location }
        }
    }

    It 'Remove-KernelModule -Name plans the removal, and a name that is not loaded is nothing to do' {
        $text = Invoke-WhatIf "Remove-KernelModule dummy -Root '$noTree' -WhatIf; Remove-KernelModule loop -Root '$noTree' -WhatIf -PassThru | ForEach-Object { 'Changed=' + `$_.Changed }"
        $text | Should -BeLike '*What if:*rmmod dummy*'
        $text | Should -BeLike '*Changed=False*'
        $text | Should -Not -BeLike '*KernelNotInstalled*'
        $text | Should -Not -BeLike '*Install that kernel*'
    }

    It 'Import-KernelModule -Path plans the insert' {
        $text = Invoke-WhatIf "Import-KernelModule -Path '$fatFile' -Root '$noTree' -WhatIf"
        $text | Should -BeLike "*What if:*insmod $fatFile*"
        $text | Should -Not -BeLike '*KernelNotInstalled*'
    }

    It 'what needs the tree says so: a name to resolve, -RemoveUnusedDependency' {
        Import-KernelModule msdos -Root $noTree -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'KernelNotInstalled,LkmPowerShell.Commands.ImportKernelModuleCommand'
        $errs[0].Exception.Message | Should -Be "Loading 'msdos' by name needs the module tree of kernel $($synthetic.Version), and $noTree/lib/modules/$($synthetic.Version) does not exist (no kernel has modules installed there)."
        $errs[0].ErrorDetails.RecommendedAction | Should -BeLike '*Import-KernelModule -Path*need no module tree*'
        Remove-KernelModule dummy -RemoveUnusedDependency -Root $noTree -WhatIf -ErrorVariable errs2 -ErrorAction SilentlyContinue
        $errs2.Count | Should -Be 1
        $errs2[0].FullyQualifiedErrorId | Should -Be 'KernelNotInstalled,LkmPowerShell.Commands.RemoveKernelModuleCommand'
        $errs2[0].Exception.Message | Should -BeLike "Removing the dependencies of 'dummy' that nothing else uses needs the module tree*"
    }
}

Describe 'Say it once' {
    # The console prints ErrorDetails.Message, then "Recommendation:" with RecommendedAction: the
    # message is what happened and why, the remedy is said there only.
    BeforeAll {
        $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
        function script:Get-ShownError([scriptblock] $Command) {
            $err = $null
            & $Command -ErrorVariable err -ErrorAction SilentlyContinue 2>$null | Out-Null
            $err[0]
        }
    }

    It 'a removal error gives its remedy once, as the Recommendation' {
        $fake = Join-Path $TestDrive 'loaded'
        Write-RootFile $fake 'proc/modules' "msdos 20480 0 - Live 0x0000000000000000`nfat 86016 1 msdos, Live 0x0000000000000000`n"
        Copy-FixtureTree $synthetic.ModulesDirectory (Join-Path $fake "lib/modules/$($synthetic.Version)")
        Remove-KernelModule fat -Root $fake -KernelVersion $synthetic.Version -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].ErrorDetails.RecommendedAction | Should -BeLike 'Remove msdos first*'
        $errs[0].ErrorDetails.Message | Should -Be 'Module fat is in use by msdos.'
        # What the console shows: the remedy once.
        $shown = $errs[0] | Out-String
        ([regex]::Matches($shown, 'Remove msdos first')).Count | Should -Be 1
        $shown | Should -BeLike '*Recommendation: Remove msdos first*'
    }

    It 'a kernel version near an installed one: Did you mean, and "-Root" only when -Root was given' {
        $prefix = $synthetic.Version -replace '-synthetic$'
        Get-KernelModule -ListAvailable -Root $synthetic.Root -KernelVersion $prefix -Name msdos -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'KernelNotInstalled,LkmPowerShell.Commands.GetKernelModuleCommand'
        $errs[0].ErrorDetails.RecommendedAction | Should -Be "Did you mean $($synthetic.Version)? Install that kernel's modules under -Root $($synthetic.Root) first, or give -KernelVersion of one that is installed there."
        $errs[0].ErrorDetails.Message | Should -Be "No modules are installed for kernel $prefix under $($synthetic.Root) ($($synthetic.Root)/lib/modules/$prefix does not exist); installed: $($synthetic.Version)."
    }

    It 'without -Root neither the message nor the remedy speaks of a root' {
        Get-KernelModule -ListAvailable -KernelVersion '0.0.0-lkm-not-here' -Name msdos -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'KernelNotInstalled,LkmPowerShell.Commands.GetKernelModuleCommand'
        $errs[0].ErrorDetails.RecommendedAction | Should -Not -BeLike '*-Root*'
        $errs[0].ErrorDetails.Message | Should -BeLike 'No modules are installed for kernel 0.0.0-lkm-not-here (/lib/modules/0.0.0-lkm-not-here does not exist);*'
    }

    It '-Root that <Case> says exactly that' -ForEach @(
        @{ Case = 'does not exist'; Make = { param($p) }; Id = 'RootNotFound'; Category = 'ObjectNotFound' }
        @{ Case = 'is not a folder'; Make = { param($p) [IO.File]::WriteAllText($p, 'x') }; Id = 'RootNotFound'; Category = 'InvalidArgument' }
    ) {
        $path = Join-Path $TestDrive ('root-' + ($Case -replace ' ', '-'))
        & $Make $path
        $err = try { Get-KernelModule -ListAvailable -Root $path -Name msdos -ErrorAction Stop } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be "$Id,LkmPowerShell.Commands.GetKernelModuleCommand"
        $err.CategoryInfo.Category | Should -Be $Category
        $err.Exception.Message | Should -Be ($Case -eq 'does not exist' ? "-Root $path does not exist." : "-Root $path is a file, not a folder.")
        $err.ErrorDetails.RecommendedAction | Should -BeLike 'Give -Root the folder of a system image*'
        $err = try { Import-KernelModule msdos -Root $path -WhatIf -ErrorAction Stop } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be "$Id,LkmPowerShell.Commands.ImportKernelModuleCommand"
    }
}

Describe 'Plans show built-ins' {
    # kmod's modprobe --show-depends prints "builtin NAME" for a built-in target or dependency; -WhatIf shows it in its place.
    BeforeAll {
        $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
        function script:Invoke-WhatIf([string] $Command) {
            Push-Location $repo
            try { dotnet pwsh -NoProfile -NonInteractive -Command "Import-Module '$repo/LkmPowerShell.psd1'; $Command" 2>&1 | Out-String }
            finally { Pop-Location }
        }
    }

    It '-WhatIf of <Name> shows what modprobe --show-depends shows, built-ins included, in its order' -ForEach @(
        @{ Name = 'net-pf-1' }   # an alias of the built-in unix
        @{ Name = 'jbd2' }       # a softdep on the built-in crc32c_generic (through crypto-crc32c)
    ) {
        $kmod = @(modprobe -C /nonexistent -d $synthetic.Root -S $synthetic.Version --show-depends $Name)
        @($kmod | Where-Object { $_ -like 'builtin *' }).Count | Should -BeGreaterThan 0
        $text = Invoke-WhatIf "Import-KernelModule $Name -Root '$($synthetic.Root)' -KernelVersion '$($synthetic.Version)' -WhatIf"
        $shown = @([regex]::Matches($text, '(builtin \S+|insmod \S+)') | ForEach-Object Value)
        $shown | Should -Be @($kmod | ForEach-Object { ($_ -split ' ')[0..1] -join ' ' })
    }
}

Describe 'Hardening that a typo cannot fool' {
    BeforeAll { $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic') }

    It 'Disable-KernelModule usb-storgae writes what was asked, and warns with the installed name nearest to it' {
        $s = Disable-KernelModule usb-storgae -Root $synthetic.Root -PassThru -WarningVariable w -WarningAction SilentlyContinue
        $s.Compliant | Should -BeTrue
        $s.Change | Should -Be 'Written'
        $w.Count | Should -Be 1
        "$($w[0])" | Should -Be "usb-storgae: no kernel installed under $($synthetic.Root) ($($synthetic.Version)) has a module or alias of that name, so this setting disables nothing there. Did you mean usb-storage?"
    }

    It 'a module, a built-in or an alias some kernel has is no warning' {
        Disable-KernelModule usb-storage, unix, fs-cramfs -Root $synthetic.Root -WarningVariable w -WarningAction SilentlyContinue
        $w | Where-Object { "$_" -like '*has a module or alias of that name*' } | Should -BeNullOrEmpty
    }
}

Describe 'Checks before the question' {
    # -WhatIf approves only what the real run would try: declared, writable (mode) and typed are checked first.
    BeforeAll {
        $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
        Write-RootFile $synthetic.Root 'sys/module/kvm/parameters/halt_poll_ns' "200000`n"
        chmod 0444 (Join-Path $synthetic.Root 'sys/module/kvm/parameters/halt_poll_ns')
        Write-RootFile $synthetic.Root 'sys/module/dummy/parameters/numdummies' "1`n"
        function script:Invoke-WhatIf([string] $Command) {
            Push-Location $repo
            try { dotnet pwsh -NoProfile -NonInteractive -Command "Import-Module '$repo/LkmPowerShell.psd1'; $Command" 2>&1 | Out-String }
            finally { Pop-Location }
        }
    }

    It '-WhatIf of <Case> is refused as the real run refuses it, and shows no plan' -ForEach @(
        @{ Case = 'a read-only parameter'; Module = 'kvm'; Param = 'halt_poll_ns'; Value = '1'; Id = 'ParameterReadOnly' }
        @{ Case = 'a value of the wrong type'; Module = 'dummy'; Param = 'numdummies'; Value = 'many'; Id = 'ParameterValueInvalid' }
        @{ Case = 'an undeclared parameter'; Module = 'dummy'; Param = 'nosuch'; Value = '1'; Id = 'ParameterNotDeclared' }
    ) {
        Set-KernelModuleParameter $Module $Param $Value -Root $synthetic.Root -KernelVersion $synthetic.Version -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be "$Id,LkmPowerShell.Commands.SetKernelModuleParameterCommand"
        $text = Invoke-WhatIf "Set-KernelModuleParameter $Module $Param $Value -Root '$($synthetic.Root)' -KernelVersion '$($synthetic.Version)' -WhatIf"
        $text | Should -Not -BeLike '*What if:*'
    }

    It '-WhatIf of a writable, declared, well-typed value shows the write' {
        $text = Invoke-WhatIf "Set-KernelModuleParameter dummy numdummies 3 -Root '$($synthetic.Root)' -KernelVersion '$($synthetic.Version)' -WhatIf"
        $text | Should -BeLike "*What if:*sys/module/dummy/parameters/numdummies = '3'*"
        Get-Content (Join-Path $synthetic.Root 'sys/module/dummy/parameters/numdummies') | Should -Be '1'
    }
}

Describe 'Update-ModuleDependency says what a user wants to know' {
    BeforeAll { $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic') }

    It '-WhatIf uses the cache the last run saved, and -Verbose says how many modules came from it' {
        $count = @(Get-KernelModule -ListAvailable -Root $synthetic.Root -KernelVersion $synthetic.Version).Count
        $verbose = @(Update-ModuleDependency -Root $synthetic.Root -KernelVersion $synthetic.Version -WhatIf -Verbose 4>&1 | ForEach-Object { "$_" })
        $verbose | Should -Contain "$($synthetic.ModulesDirectory): $count modules, 0 read from their files, $count from the cache of their facts."
        $verbose | Where-Object { $_ -match ': \d+(\.\d+)? ms$' } | Should -BeNullOrEmpty
    }

    It 'a real run says which files changed; the per-step timings go to -Debug only' {
        $out = Join-Path $TestDrive 'out'
        $verbose = @(Update-ModuleDependency -Root $synthetic.Root -KernelVersion $synthetic.Version -OutputPath $out -Verbose 4>&1 | ForEach-Object { "$_" })
        $verbose | Where-Object { $_ -like '* index files changed: modules.dep, *' } | Should -Not -BeNullOrEmpty
        $verbose | Where-Object { $_ -match ': \d+(\.\d+)? ms$' } | Should -BeNullOrEmpty
        $again = @(Update-ModuleDependency -Root $synthetic.Root -KernelVersion $synthetic.Version -OutputPath $out -Verbose 4>&1 | ForEach-Object { "$_" })
        $again | Where-Object { $_ -like 'No index file changed*' } | Should -Not -BeNullOrEmpty
        $debug = @(& { $DebugPreference = 'Continue'; Update-ModuleDependency -Root $synthetic.Root -KernelVersion $synthetic.Version -OutputPath $out 5>&1 } | ForEach-Object { "$_" })
        ($debug | Where-Object { $_ -match ': \d+(\.\d+)? ms$' }).Count | Should -BeGreaterThan 2
    }
}

Describe 'An already loaded module given other parameters' {
    It 'says so as a warning, without -Verbose' {
        $synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
        Write-RootFile $synthetic.Root 'proc/modules' "dummy 16384 0 - Live 0x0000000000000000`n"
        Write-RootFile $synthetic.Root 'sys/module/dummy/parameters/numdummies' "2`n"
        Import-KernelModule dummy -Parameters @{ numdummies = 5 } -Root $synthetic.Root -KernelVersion $synthetic.Version -WhatIf -WarningVariable w -WarningAction SilentlyContinue
        $w.Count | Should -Be 1
        "$($w[0])" | Should -Be 'dummy is already loaded with numdummies=2, not 5; parameters only apply when a module is loaded. Remove-KernelModule dummy first to change it.'
    }
}
