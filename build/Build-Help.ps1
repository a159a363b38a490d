#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds en-US/LkmPowerShell.dll-Help.xml (MAML) from the PlatyPS 1.x markdown in docs/en-US,
    after checking that markdown against the cmdlets' own metadata.
.DESCRIPTION
    Imports the module from the repository root (so run it after the build copied the binaries to
    ./bin; build.ps1 does, in a child pwsh), then for every cmdlet of 'Get-Command -Module
    LkmPowerShell' reads docs/en-US/<Cmdlet>.md and checks it. The build fails, naming the cmdlet
    and parameter, when:
      - a cmdlet has no markdown file, or a markdown file names a cmdlet the module does not have;
      - the synopsis or description is empty, or there is no example (with code and text);
      - a parameter is not documented, has no description, or its yaml metadata (type, aliases,
        wildcards, parameter sets with position, required, pipeline input) differs from the cmdlet;
      - the markdown documents a parameter or parameter set the cmdlet does not have;
      - a SYNTAX block differs from what PowerShell prints for that parameter set;
      - OUTPUTS differs from the cmdlet's [OutputType] types.
    Common parameters are not documented (PlatyPS's '### CommonParameters' covers them). WhatIf and
    Confirm are documented like any other parameter. PlatyPS placeholders ('{{ ... }}') count as
    missing text. Only when nothing is wrong is the MAML written.

    A markdown file for a cmdlet that the manifest already lists in CmdletsToExport but the binary
    does not have yet is skipped with a warning: docs may be written ahead of the code, and the
    full check applies the moment the cmdlet exists.
.PARAMETER DocsPath
    The folder of <Cmdlet>.md files. Default: <repo>/docs/en-US.
.PARAMETER OutputPath
    The MAML file to write. Default: <repo>/en-US/LkmPowerShell.dll-Help.xml.
.PARAMETER ModulePath
    The module manifest to import and check against. Default: <repo>/LkmPowerShell.psd1.
.PARAMETER CheckOnly
    Check the markdown and write nothing.
.PARAMETER Scaffold
    Write a PlatyPS-shaped skeleton (with placeholders the check rejects) for each cmdlet that has
    no markdown file yet, then check as usual.
.EXAMPLE
    dotnet pwsh -NoProfile -NonInteractive -File build/Build-Help.ps1
.EXAMPLE
    dotnet pwsh -NoProfile -File build/Build-Help.ps1 -DocsPath /tmp/docs -CheckOnly
#>
[CmdletBinding()]
param(
    [string] $DocsPath,
    [string] $OutputPath,
    [string] $ModulePath,
    [switch] $CheckOnly,
    [switch] $Scaffold
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$repo = Split-Path $PSScriptRoot
if (-not $DocsPath) { $DocsPath = Join-Path $repo 'docs/en-US' }
if (-not $OutputPath) { $OutputPath = Join-Path $repo 'en-US/LkmPowerShell.dll-Help.xml' }
if (-not $ModulePath) { $ModulePath = Join-Path $repo 'LkmPowerShell.psd1' }
$DocsPath = [IO.Path]::GetFullPath($DocsPath, (Get-Location).Path)
$OutputPath = [IO.Path]::GetFullPath($OutputPath, (Get-Location).Path)

Import-Module (Join-Path $PSScriptRoot 'Help/HelpMarkdown.psm1') -Force
$module = Import-Module $ModulePath -PassThru -Force:$false
$moduleName = $module.Name
$commands = @(Get-Command -Module $moduleName -CommandType Cmdlet, Function | Sort-Object Name)
if (-not $commands.Count) { throw "Help: module $moduleName ($ModulePath) exports no commands; was it built into ./bin?" }
$declared = @((Import-PowerShellDataFile $ModulePath).CmdletsToExport)

if (-not (Test-Path -LiteralPath $DocsPath -PathType Container)) { throw "Help: the docs folder $DocsPath does not exist." }
$problems = [Collections.Generic.List[string]]::new()
$entries = [Collections.Generic.List[object]]::new()
foreach ($cmd in $commands) {
    $file = Join-Path $DocsPath "$($cmd.Name).md"
    if (-not (Test-Path -LiteralPath $file)) {
        if ($Scaffold) {
            [IO.File]::WriteAllText($file, (New-HelpMarkdownSkeleton $cmd))
            Write-Host "Help: wrote a skeleton $file; fill in its placeholders."
        }
        else {
            $problems.Add("$($cmd.Name): no markdown help: expected $file (Build-Help.ps1 -Scaffold writes a skeleton)")
            continue
        }
    }
    $help = Read-HelpMarkdown -Path $file
    $found = @(Test-HelpMarkdown -Command $cmd -Help $help -ModuleName $moduleName)
    foreach ($p in $found) { $problems.Add($p) }
    $entries.Add([pscustomobject]@{ Command = $cmd; Help = $help })
}
foreach ($md in Get-ChildItem -LiteralPath $DocsPath -Filter '*.md' -File) {
    $name = $md.BaseName
    if ($name -in @($commands.Name) -or $name -eq $moduleName) { continue }   # <Module>.md is PlatyPS's module page
    if ($name -in $declared) {
        Write-Warning "Help: $($md.Name) documents $name, which the manifest exports but the binary does not have yet; skipped until it does."
        continue
    }
    $problems.Add("${name}: $($md.FullName) documents a cmdlet that module $moduleName does not have (renamed or removed? delete or rename the file)")
}

if ($problems.Count) {
    # One plain line a problem (not one long exception, which the error view wraps and mangles),
    # then exit 1: 'pwsh -File' returns it and build.ps1 stops; '& Build-Help.ps1' sets
    # $LASTEXITCODE without ending the caller's session (the help tests rely on that).
    Write-Host "Help check failed: $($problems.Count) problem(s) in $DocsPath" -ForegroundColor Red
    foreach ($p in $problems) { Write-Host "  - $p" -ForegroundColor Red }
    exit 1
}
Write-Host "Help: $($entries.Count) cmdlet(s) checked against $moduleName $($module.Version): complete."
if ($CheckOnly) { return }
Export-MamlHelp -Entries $entries -OutputFile $OutputPath
Write-Host "Help: wrote $OutputPath"
