# Help: every exported cmdlet has real help (from en-US/LkmPowerShell.dll-Help.xml, built from
# docs/en-US by build/Build-Help.ps1), every parameter is described, about_LkmPowerShell is found,
# and Build-Help.ps1's check fails on broken docs.

BeforeDiscovery {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    Import-Module (Join-Path $repo 'LkmPowerShell.psd1') -Force
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters
    $commandCases = @(Get-Command -Module LkmPowerShell -CommandType Cmdlet | Sort-Object Name | ForEach-Object {
            $cmd = $_
            @{
                Name       = $cmd.Name
                Parameters = @($cmd.Parameters.Values | Where-Object Name -NotIn $common | Sort-Object Name | ForEach-Object { @{ Command = $cmd.Name; Parameter = $_.Name } })
            }
        })
}

BeforeAll {
    $script:repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    Import-Module (Join-Path $repo 'LkmPowerShell.psd1') -Force
    $script:common = [System.Management.Automation.PSCmdlet]::CommonParameters
    $script:buildHelp = Join-Path $repo 'build/Build-Help.ps1'
    $script:docs = Join-Path $repo 'docs/en-US'

    function Get-HelpText($Node) { (@($Node) | ForEach-Object { $_.Text }) -join "`n" }

    function Invoke-HelpCheck {
        # Runs Build-Help.ps1's check in this session on a docs folder; returns its exit code and
        # what it printed. (It reports with Write-Host and 'exit 1', which ends only the script.)
        param([string] $DocsPath)
        $global:LASTEXITCODE = 0
        $out = & $buildHelp -DocsPath $DocsPath -OutputPath (Join-Path $TestDrive 'out/help.xml') -CheckOnly 6>&1 3>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($out | Out-String) }
    }

    function New-DocsCopy {
        # A fresh copy of the real docs in TestDrive, for one deliberate breakage.
        $target = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        New-Item -ItemType Directory $target | Out-Null
        Copy-Item (Join-Path $docs '*.md') $target
        $target
    }

    function Edit-Doc([string] $Folder, [string] $File, [scriptblock] $Edit) {
        $path = Join-Path $Folder $File
        $text = [IO.File]::ReadAllText($path)
        $new = & $Edit $text
        if ($new -ceq $text) { throw "the edit of $File changed nothing: the test no longer breaks what it means to" }
        [IO.File]::WriteAllText($path, $new)
    }
}

Describe 'Help of <Name>' -ForEach $commandCases {
    BeforeAll {
        $script:cmd = Get-Command $Name
        $script:help = Get-Help $Name -Full
    }

    It 'comes from the MAML help file, not from the syntax' {
        # Without a help file Get-Help returns ExtendedCmdletHelpInfo, whose synopsis is the syntax.
        $help.PSObject.TypeNames | Should -Not -Contain 'ExtendedCmdletHelpInfo'
        $help.PSObject.TypeNames | Should -Contain 'MamlCommandHelpInfo'
    }

    It 'has a synopsis that is a sentence, not the syntax line' {
        $synopsis = "$($help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        $synopsis | Should -Not -BeLike "$Name *"
        $synopsis | Should -Not -BeLike '*`[<CommonParameters>`]*'
        $synopsis | Should -Not -Match '\{\{'
    }

    It 'has a description' {
        Get-HelpText $help.description | Should -Not -BeNullOrEmpty
        Get-HelpText $help.description | Should -Not -Match '\{\{'
    }

    It 'has at least one example, each with code and an explanation' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterThan 0
        foreach ($e in $examples) {
            $e.code | Should -Not -BeNullOrEmpty -Because "example '$($e.title)' needs code"
            Get-HelpText $e.remarks | Should -Not -BeNullOrEmpty -Because "example '$($e.title)' needs an explanation"
        }
    }

    It 'has one syntax item per parameter set' {
        @($help.syntax.syntaxItem).Count | Should -Be @($cmd.ParameterSets).Count
    }

    It 'documents no parameter the cmdlet does not have' {
        $documented = @($help.parameters.parameter | ForEach-Object name)
        $actual = @($cmd.Parameters.Keys | Where-Object { $_ -notin $common })
        $documented | Where-Object { $_ -notin $actual } | Should -BeNullOrEmpty
    }

    It 'describes -<Parameter>' -ForEach $Parameters {
        $p = @($help.parameters.parameter | Where-Object name -EQ $Parameter)
        $p.Count | Should -Be 1 -Because "Get-Help $Command -Parameter $Parameter must find it"
        $text = Get-HelpText $p[0].description
        $text | Should -Not -BeNullOrEmpty -Because "-$Parameter of $Command needs a description"
        $text | Should -Not -Match '\{\{'
        $meta = (Get-Command $Command).Parameters[$Parameter]
        $p[0].required | Should -Be ([bool]($meta.ParameterSets.Values | Where-Object IsMandatory)).ToString().ToLowerInvariant()
        $aliases = if ($meta.Aliases.Count) { $meta.Aliases -join ', ' } else { 'none' }
        $p[0].aliases | Should -Be $aliases
    }
}

Describe 'about_LkmPowerShell' {
    It 'is found by Get-Help' {
        $topic = Get-Help about_LkmPowerShell
        $topic | Should -Not -BeNullOrEmpty
        $text = $topic | Out-String
        $text | Should -Match 'lsmod'
        $text | Should -Match 'Get-KernelModule'
        $text | Should -Match '-Root'
    }
}

Describe 'Build-Help.ps1 check' {
    It 'passes on the docs in the repository' {
        $r = Invoke-HelpCheck -DocsPath $docs
        $r.Output | Should -Match 'complete'
        $r.ExitCode | Should -Be 0
    }

    It 'fails when a parameter has no description, naming cmdlet and parameter' {
        $broken = New-DocsCopy
        Edit-Doc $broken 'Get-KernelModule.md' { param($t) $t -replace '(?s)(### -Root\n\n).*?(\n\n```yaml)', '$1{{ Fill Root Description }}$2' }
        $r = Invoke-HelpCheck -DocsPath $broken
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match 'Get-KernelModule -Root: the parameter has no description'
        Join-Path $TestDrive 'out/help.xml' | Should -Not -Exist
    }

    It 'fails when a parameter is not documented at all' {
        $broken = New-DocsCopy
        Edit-Doc $broken 'Get-KernelModule.md' { param($t) $t -replace '(?s)### -IncludeBuiltin\n.*?```yaml.*?```\n', '' }
        $r = Invoke-HelpCheck -DocsPath $broken
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match 'Get-KernelModule -IncludeBuiltin: not documented'
    }

    It 'fails when the markdown documents a parameter the cmdlet does not have' {
        $broken = New-DocsCopy
        Edit-Doc $broken 'Get-KernelModule.md' { param($t) $t -replace '### -Root', '### -Force' }
        $r = Invoke-HelpCheck -DocsPath $broken
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match 'Get-KernelModule -Force: .*documents a parameter that Get-KernelModule does not have'
        $r.Output | Should -Match 'Get-KernelModule -Root: not documented'
    }

    It 'fails when the parameter metadata drifted from the cmdlet' {
        $broken = New-DocsCopy
        Edit-Doc $broken 'Get-KernelModule.md' { param($t) $t -replace '(?s)(### -Name\n.*?- Name: ListAvailable\n  Position: )0', '${1}1' }
        $r = Invoke-HelpCheck -DocsPath $broken
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match "Get-KernelModule -Name: the yaml metadata .* is stale: in parameter set 'ListAvailable' Position is 1, the cmdlet says 0"
    }

    It 'fails when a syntax block is stale' {
        $broken = New-DocsCopy
        Edit-Doc $broken 'Get-KernelModule.md' { param($t) $t -replace '\[-IncludeBuiltin\] ', '' }
        $r = Invoke-HelpCheck -DocsPath $broken
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match "SYNTAX for parameter set 'Loaded' is stale"
    }

    It 'fails when a cmdlet has no example' {
        $broken = New-DocsCopy
        Edit-Doc $broken 'Get-KernelModule.md' { param($t) $t -replace '(?s)(## EXAMPLES\n).*?(## PARAMETERS)', "`$1`n`$2" }
        $r = Invoke-HelpCheck -DocsPath $broken
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match 'Get-KernelModule: Get-KernelModule.md: no example'
    }

    It 'fails when a cmdlet has no markdown file' {
        $broken = New-DocsCopy
        Remove-Item (Join-Path $broken 'Get-KernelModule.md')
        $r = Invoke-HelpCheck -DocsPath $broken
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match 'Get-KernelModule: no markdown help'
    }

    It 'fails when a markdown file names a cmdlet the module does not have' {
        $broken = New-DocsCopy
        Copy-Item (Join-Path $broken 'Get-KernelModule.md') (Join-Path $broken 'Get-KernelModuleOld.md')
        $r = Invoke-HelpCheck -DocsPath $broken
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match 'Get-KernelModuleOld: .* documents a cmdlet that module LkmPowerShell does not have'
    }

    It 'does not take a comment in an example for a heading' {
        $broken = New-DocsCopy
        Edit-Doc $broken 'Get-KernelModule.md' { param($t) $t -replace '(?s)(### Example 1: [^\n]*\n\n```powershell\n)', "`$1# PARAMETERS`n## PARAMETERS`n" }
        $r = Invoke-HelpCheck -DocsPath $broken
        $r.Output | Should -Match 'complete'
        $r.ExitCode | Should -Be 0
    }

    It 'exits non-zero under pwsh -File, as build.ps1 runs it' {
        $broken = New-DocsCopy
        Edit-Doc $broken 'Get-KernelModule.md' { param($t) $t -replace '(?s)(### -Name\n\n).*?(\n\n```yaml)', '$1$2' }
        # This pwsh, whether it runs as its own executable or as 'dotnet pwsh'.
        $exe = [Environment]::ProcessPath
        $argv = [Collections.Generic.List[string]]::new()
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $argv.Add((Join-Path $PSHOME 'pwsh.dll')) }
        $argv.AddRange([string[]]@('-NoProfile', '-NonInteractive', '-File', $buildHelp, '-DocsPath', $broken, '-OutputPath', (Join-Path $TestDrive 'child/help.xml')))
        $out = & $exe $argv 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 1 -Because $out
        $out | Should -Match 'Get-KernelModule -Name: the parameter has no description'
        Join-Path $TestDrive 'child/help.xml' | Should -Not -Exist
    }
}
