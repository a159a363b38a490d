# The configuration cmdlets on the host, against scratch roots (the synthetic tree linked read-only
# into them) with kmod's modprobe as the oracle. Nothing here touches the build machine's kernel:
# /sys is fabricated, and -Root keeps every write inside $TestDrive.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')

    # A root with the synthetic tree (hard links, never written: a symbolic link out of the root
    # would be contained, as it must be for an untrusted image) and the host's /proc/cmdline,
    # because kmod reads the host's command line whatever -d says.
    function New-ScratchRoot([string] $Name) {
        $root = Join-Path $TestDrive $Name
        New-Item -ItemType Directory (Join-Path $root 'etc/modprobe.d'), (Join-Path $root 'lib/modules'), (Join-Path $root 'proc') | Out-Null
        Copy-FixtureTree $synthetic.ModulesDirectory (Join-Path $root "lib/modules/$($synthetic.Version)")
        if (Test-Path /proc/cmdline) { Copy-Item /proc/cmdline (Join-Path $root 'proc/cmdline') } else { Set-Content (Join-Path $root 'proc/cmdline') '' }
        $root
    }
    function Invoke-KmodShowConfig([string] $Root) {
        $dirs = '/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/lib/modprobe.d' | ForEach-Object { '-C'; "$Root$_" }
        (& modprobe -c @dirs -d $Root -S $synthetic.Version 2>$null) -join "`n"
    }
}

Describe 'Get-KernelModuleConfiguration' {
    BeforeAll {
        $script:root = New-ScratchRoot config
        Set-Content (Join-Path $root 'etc/modprobe.d/10-site.conf') @(
            'options snd-hda-intel index=1', 'options snd-hda-intel index=2 model=auto', 'install nfs* /bin/true',
            'install nfsd /bin/false', 'alias my-fat fat', 'blacklist pcspkr', 'softdep msdos pre: nls_cp437')
        New-Item -ItemType Directory (Join-Path $root 'lib/modprobe.d') | Out-Null
        Set-Content (Join-Path $root 'lib/modprobe.d/10-site.conf') 'blacklist masked_entry'
    }

    It '-AsText is what modprobe -c prints, indexes included' {
        $ours = Get-KernelModuleConfiguration -Root $root -KernelVersion $synthetic.Version -AsText
        $kmod = Invoke-KmodShowConfig $root
        $kmod | Should -Match 'alias my_fat fat'
        $ours.TrimEnd("`n") | Should -BeExactly $kmod
    }

    It 'filters by module: entries for it, patterns that match it, aliases that name it' {
        $entries = Get-KernelModuleConfiguration snd-hda-intel -Root $root -KernelVersion $synthetic.Version
        @($entries).Count | Should -Be 2
        $entries[0].InEffect | Should -BeFalse
        $entries[0].OverriddenBy | Should -BeLike '*10-site.conf:2'
        $entries[1].Location | Should -BeLike '*/etc/modprobe.d/10-site.conf:2'
        (Get-KernelModuleConfiguration nfsd -Kind Install -Root $root).Value | Should -Be @('/bin/true', '/bin/false')
        (Get-KernelModuleConfiguration fat -Kind Alias -Root $root).Module | Should -Be 'my_fat'
    }

    It 'shows masked files only with -IncludeMasked' {
        Get-KernelModuleConfiguration masked_entry -Root $root | Should -BeNullOrEmpty
        $m = Get-KernelModuleConfiguration masked_entry -Root $root -IncludeMasked
        $m.InEffect | Should -BeFalse
        $m.OverriddenBy | Should -BeLike '*/etc/modprobe.d/10-site.conf'
    }

    It '-KernelRequest reads the helper path under -Root' {
        New-Item -ItemType Directory (Join-Path $root 'proc/sys/kernel') -Force | Out-Null
        Set-Content (Join-Path $root 'proc/sys/kernel/modprobe') '/sbin/modprobe'
        Set-Content (Join-Path $root 'proc/sys/kernel/modules_disabled') '0'
        $k = Get-KernelModuleConfiguration -KernelRequest -Root $root
        $k.HelperPath | Should -Be '/sbin/modprobe'
        $k.RequestsDisabled | Should -BeFalse
        $k.LoadingDisabled | Should -BeFalse
    }
}

Describe 'Disable-KernelModule and Enable-KernelModule' {
    BeforeAll { $script:root = New-ScratchRoot disable }

    It 'disables the CIS way, and kmod''s modprobe -n -v then runs /bin/false' {
        modprobe -n -v -C (Join-Path $root 'etc/modprobe.d') -d $root -S $synthetic.Version freevxfs | Should -BeLike 'insmod *freevxfs.ko*'
        $s = Disable-KernelModule freevxfs, usb-storage -Root $root -PassThru
        $s.Change | Should -Be @('Written', 'Written')
        $s.Changed | Should -Be @($true, $true)
        $s.Compliant | Should -Be @($true, $true)
        $s[1].Module | Should -Be 'usb_storage'
        modprobe -n -v -C (Join-Path $root 'etc/modprobe.d') -d $root -S $synthetic.Version freevxfs | Should -Be 'install /bin/false '
        # kmod still loads the dependencies (usb-common, usbcore, scsi_mod) and then runs the install command instead of the module.
        $usb = modprobe -n -v -C (Join-Path $root 'etc/modprobe.d') -d $root -S $synthetic.Version usb-storage
        @($usb)[-1] | Should -Be 'install /bin/false '
        @($usb)[0] | Should -BeLike 'insmod */usb-common.ko*'
        $usb | Should -Not -BeLike '*usb-storage.ko*'
        (Get-KernelModuleConfiguration freevxfs -Kind Install -Root $root).DisablesLoading | Should -BeTrue
    }

    It 'Get-KernelModule -ListAvailable shows disabled and blacklisted, with file and line' {
        $all = Get-KernelModule -ListAvailable freevxfs, ext4 -Root $root -KernelVersion $synthetic.Version
        $f = @($all | Where-Object Name -EQ 'freevxfs') + @($all | Where-Object Name -EQ 'ext4')
        ($f[0].Disabled, $f[0].Blacklisted) | Should -Be @($true, $true)
        $f[0].DisabledBy | Should -BeLike '*/etc/modprobe.d/00-lkmpowershell-disabled.conf:3'
        $f[0].BlacklistedBy | Should -BeLike '*/etc/modprobe.d/00-lkmpowershell-disabled.conf:4'
        ($f[1].Disabled, $f[1].Blacklisted, $f[1].DisabledBy) | Should -Be @($false, $false, $null)
        (Get-KernelModule -LiteralPath $f[0].Path).Disabled | Should -BeNullOrEmpty
    }

    It 'Import-KernelModule refuses a disabled module naming the file and line; -IgnoreDisabled plans it without the command' {
        Import-KernelModule freevxfs -Root $root -KernelVersion $synthetic.Version -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'ModuleDisabled,LkmPowerShell.Commands.ImportKernelModuleCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $errs[0].Exception.Message | Should -BeLike '*freevxfs by */etc/modprobe.d/00-lkmpowershell-disabled.conf:3*'
        $errs[0].ErrorDetails.RecommendedAction | Should -BeLike '*Enable-KernelModule*'
        $repo = Get-RepositoryRoot
        $text = dotnet pwsh -NoProfile -NonInteractive -Command "Import-Module '$repo/LkmPowerShell.psd1'; Import-KernelModule freevxfs -IgnoreDisabled -Confirm:`$false -Root '$root' -KernelVersion '$($synthetic.Version)' -WhatIf" 2>&1 | Out-String
        $text | Should -BeLike '*insmod*freevxfs.ko*'
        $text | Should -Not -BeLike '*ModuleDisabled*'
    }

    It 'is idempotent: a second run reports Unchanged and leaves the file as it was' {
        $file = Join-Path $root 'etc/modprobe.d/00-lkmpowershell-disabled.conf'
        $before = Get-Item $file
        $hash = (Get-FileHash $file).Hash
        $again = Disable-KernelModule freevxfs, usb-storage -Root $root -PassThru
        $again.Change | Should -Be @('Unchanged', 'Unchanged')
        $again.Changed | Should -Be @($false, $false)
        (Get-FileHash $file).Hash | Should -Be $hash
        (Get-Item $file).LastWriteTimeUtc | Should -Be $before.LastWriteTimeUtc
    }

    It 'Enable-KernelModule completes the modules LkmPowerShell disabled' {
        $line = "Enable-KernelModule -Root '$root' -Name "
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('freevxfs', 'usb_storage')
    }

    It '-InstallCommand /bin/true writes what Lynis scores, kmod runs it, and /bin/false again rewrites the line' {
        $file = Join-Path $root 'etc/modprobe.d/00-lkmpowershell-disabled.conf'
        $s = Disable-KernelModule udf -InstallCommand /bin/true -Root $root -PassThru
        $s.Change | Should -Be 'Written'
        Get-Content $file | Should -Contain 'install udf /bin/true'
        # kmod loads udf's dependency (crc16), then runs the install command instead of udf.
        @(modprobe -n -v -C (Join-Path $root 'etc/modprobe.d') -d $root -S $synthetic.Version udf)[-1] | Should -Be 'install /bin/true '
        (Disable-KernelModule udf -InstallCommand /bin/true -Root $root -PassThru).Change | Should -Be 'Unchanged'
        Disable-KernelModule udf -Root $root -WhatIf
        Get-Content $file | Should -Contain 'install udf /bin/true'
        (Disable-KernelModule udf -Root $root -PassThru).Change | Should -Be 'Written'
        Get-Content $file | Should -Contain 'install udf /bin/false'
        { Disable-KernelModule udf -InstallCommand /bin/sh -Root $root } | Should -Throw -ErrorId 'ParameterArgumentValidationError,LkmPowerShell.Commands.DisableKernelModuleCommand'
    }

    AfterEach { if ((Get-Content -Raw (Join-Path $root 'etc/modprobe.d/00-lkmpowershell-disabled.conf') -ErrorAction Ignore) -match 'udf') { $null = Enable-KernelModule udf -Root $root } }

    It '-WhatIf writes nothing' {
        Disable-KernelModule sctp -Root $root -WhatIf
        Get-Content (Join-Path $root 'etc/modprobe.d/00-lkmpowershell-disabled.conf') -Raw | Should -Not -Match 'sctp'
    }

    It 'Enable removes only its own lines and warns about another file that still blacklists' {
        Set-Content (Join-Path $root 'etc/modprobe.d/local.conf') 'blacklist usb-storage'
        $s = Enable-KernelModule usb-storage -Root $root -PassThru -WarningVariable warn 3>$null
        $s.Change | Should -Be 'Written'
        $s.Disabled | Should -BeFalse
        $s.BlacklistedBy | Should -BeLike '*local.conf:1'
        "$warn" | Should -BeLike '*still blacklisted by*local.conf:1*'
        modprobe -n -v -C (Join-Path $root 'etc/modprobe.d') -d $root -S $synthetic.Version freevxfs | Should -Be 'install /bin/false '
        (Enable-KernelModule freevxfs -Root $root -PassThru).Change | Should -Be 'Deleted'
        modprobe -n -v -C (Join-Path $root 'etc/modprobe.d') -d $root -S $synthetic.Version freevxfs | Should -BeLike 'insmod *'
    }

    It 'a bad name is one InvalidArgument error and the others still happen' {
        Disable-KernelModule '../x', jffs2 -Root $root -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'InvalidModuleName,LkmPowerShell.Commands.DisableKernelModuleCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-Content (Join-Path $root 'etc/modprobe.d/00-lkmpowershell-disabled.conf') | Should -Contain 'install jffs2 /bin/false'
    }
}

Describe 'Get-KernelModuleBootEntry' {
    It 'lists modules-load.d with the override rule and says what the kernel has' {
        $root = New-ScratchRoot boot
        New-Item -ItemType Directory (Join-Path $root 'etc/modules-load.d'), (Join-Path $root 'usr/lib/modules-load.d') | Out-Null
        Set-Content (Join-Path $root 'usr/lib/modules-load.d/a.conf') 'hidden'
        Set-Content (Join-Path $root 'etc/modules-load.d/a.conf') @('# mine', 'loop', 'no-such-thing')
        Set-Content (Join-Path $root 'etc/modules') 'fs-msdos'
        $e = Get-KernelModuleBootEntry -Root $root -KernelVersion $synthetic.Version
        $e.Name | Should -Be @('loop', 'no-such-thing', 'fs-msdos')
        $e.Installed | Should -Be @($true, $false, $true)
        $e[2].ResolvesTo | Should -Be 'msdos'
        $e[0].Location | Should -BeLike '*/etc/modules-load.d/a.conf:2'
        (Get-KernelModuleBootEntry loop -Root $root).Name | Should -Be 'loop'
    }
}

Describe 'Set-KernelModuleParameter against a fabricated /sys' {
    BeforeAll {
        $script:root = Join-Path $TestDrive 'sys'
        $p = Join-Path $root 'sys/module/nf_conntrack/parameters'
        New-Item -ItemType Directory $p | Out-Null
        Set-Content (Join-Path $p 'hashsize') '1024'
        Set-Content (Join-Path $p 'expect_hashsize') '256'
        chmod 0444 (Join-Path $p 'expect_hashsize')
    }

    It 'a real write under -Root is refused (RootNeedsWhatIf: an image''s /sys is no live kernel) and nothing is written' {
        { Set-KernelModuleParameter nf_conntrack hashsize 16384 -Root $root -PassThru } | Should -Throw -ErrorId 'RootNeedsWhatIf,*'
        Get-Content (Join-Path $root 'sys/module/nf_conntrack/parameters/hashsize') | Should -Be '1024'
    }

    It 'setting the value it already has changes nothing, asks nothing, and says so (Changed)' {
        $c = Set-KernelModuleParameter nf_conntrack hashsize 1024 -Root $root -PassThru
        $c.Changed | Should -BeFalse
        $c.OldValue | Should -Be '1024'
        # Under $ConfirmPreference = 'Medium' a change asks (ShouldProcess); in a runspace without a
        # user interface the question fails, which shows that it was asked.
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$(Get-RepositoryRoot)/LkmPowerShell.psd1'; `$ConfirmPreference = 'Medium'; (Set-KernelModuleParameter nf_conntrack hashsize 1024 -Root '$root' -PassThru).Changed; Set-KernelModuleParameter nf_conntrack hashsize 32 -Root '$root'")
            $ps.Invoke() | Should -Be @($false)
            @($ps.Streams.Error).Count | Should -Be 1
            $ps.Streams.Error[0].FullyQualifiedErrorId | Should -BeLike 'HostFunctionNotImplemented,*'
        } finally { $ps.Dispose() }
        Get-Content (Join-Path $root 'sys/module/nf_conntrack/parameters/hashsize') | Should -Be '1024'
    }

    It '-WhatIf writes nothing' {
        Set-KernelModuleParameter nf_conntrack hashsize 8 -Root $root -WhatIf
        Get-Content (Join-Path $root 'sys/module/nf_conntrack/parameters/hashsize') | Should -Be '1024'
    }

    It 'refuses with an error that says why and what to do' -ForEach @(
        @{ Param = 'expect_hashsize'; Value = '512'; Id = 'ParameterReadOnly'; Category = 'PermissionDenied'; Text = '*read-only*0444*options nf_conntrack expect_hashsize=512*' }
        @{ Param = 'nosuch'; Value = '1'; Id = 'ParameterNotDeclared'; Category = 'ObjectNotFound'; Text = '*expect_hashsize, hashsize*' }
    ) {
        Set-KernelModuleParameter nf_conntrack $Param $Value -Root $root -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be "$Id,LkmPowerShell.Commands.SetKernelModuleParameterCommand"
        $errs[0].CategoryInfo.Category | Should -Be $Category
        $errs[0].Exception.Message | Should -BeLike $Text
        $errs[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }

    It 'a module that is not loaded is ModuleNotLoaded' {
        { Set-KernelModuleParameter dummy numdummies 1 -Root $root -ErrorAction Stop } | Should -Throw -ErrorId 'ModuleNotLoaded,LkmPowerShell.Commands.SetKernelModuleParameterCommand'
    }
}
