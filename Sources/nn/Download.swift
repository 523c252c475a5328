import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn download mnist`: the four MNIST files, checksums verified.
struct Download: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a data set (MNIST) with checksum verification and resume.",
        discussion: """
            Each file is fetched as NAME.partial, resumed after a dropped connection, checked \
            against its published MD5 and only then renamed: a file under its final name is \
            always complete and verified. Files already present and correct are kept.
            """)

    enum DataSet: String, ExpressibleByArgument, CaseIterable { case mnist }

    @Argument(help: "The data set: mnist.")
    var dataSet: DataSet

    @Option(help: "Directory to write to (use it with nn train --data).")
    var to = "mnist"

    @Option(help: "Where the files are served (a mirror): the file names are appended.")
    var baseURL = Downloader.mnistBaseURL

    func validate() throws {
        guard let url = URL(string: baseURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw ValidationError("--base-url must be an http:// or https:// URL, got \(baseURL)")
        }
    }

    func execute() throws {
        try Downloader(baseURL: baseURL).download(Downloader.mnist, to: to) { print($0) }
        print("nn train --data \(to)")
    }
}
