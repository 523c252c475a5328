import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import NeuralNetworks

struct LearningCurvesTests {
    @Test func svgOfAKnownHistoryHasCurvesAxesAndLegend() throws {
        let history = (1...6).map { e in
            EpochReport(epoch: e, trainLoss: 1 / Float(e), trainAccuracy: 0.5 + 0.05 * Float(e), testLoss: 1.2 / Float(e),
                        testAccuracy: 0.45 + 0.05 * Float(e), learningRate: 0.1, elapsedSeconds: Double(e))
        }
        let svg = LearningCurves.svg(history, title: "Run <1>")
        let document = try XMLDocument(data: Data(svg.utf8))
        let root = try #require(document.rootElement())
        #expect(root.name == "svg")
        let polylines = try root.nodes(forXPath: "//*[local-name()='polyline']") as! [XMLElement]
        #expect(polylines.count == 4)  // train and test, in the loss and the accuracy panel
        for line in polylines {
            let attribute = line.attributes?.first { $0.name == "points" || $0.localName == "points" }
            let points = try #require(attribute?.stringValue, "\(line.xmlString)").split(separator: " ")
            #expect(points.count == 6)
        }
        let texts = try root.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(texts.contains("Loss") && texts.contains("Accuracy"))
        #expect(texts.filter { $0 == "train" }.count == 2 && texts.filter { $0 == "test" }.count == 2)
        #expect(texts.filter { $0 == "epoch" }.count == 2)
        #expect(texts.contains("Run &lt;1&gt;") || texts.contains("Run <1>"))
        for tick in ["1", "2", "3", "4", "5", "6"] { #expect(texts.contains(tick)) }
    }

    @Test func ticksAreRoundAndCoverTheRange() {
        #expect(LearningCurves.ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(LearningCurves.ticks(1, 30, count: 8) == [5, 10, 15, 20, 25, 30])
        #expect(LearningCurves.ticks(0.31, 0.42).allSatisfy { (0.31...0.42).contains($0) })
    }
}
