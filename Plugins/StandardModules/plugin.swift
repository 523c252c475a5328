import PackagePlugin

/// Generates `ModuleRegistry.libraryModules`, the list `ModuleRegistry.standard` registers, from
/// the target's sources (see Sources/ModuleListGenerator): a new layer, loss or optimizer in the
/// library is one file, registered without an edit elsewhere.
@main
struct StandardModules: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target.sourceModule else { return [] }
        let sources = module.sourceFiles(withSuffix: "swift").map(\.url)
        let output = context.pluginWorkDirectoryURL.appending(path: "LibraryModules.swift")
        return [.buildCommand(
            displayName: "Listing the library's modules of \(target.name)",
            executable: try context.tool(named: "ModuleListGenerator").url,
            arguments: [output.path()] + sources.map { $0.path() },
            inputFiles: sources,
            outputFiles: [output])]
    }
}
