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

    /// A CTC run has no accuracy: its second panel is the test lines' label error rate (it was
    /// empty), with a legend entry only for the series drawn.
    @Test func aRunWithoutAccuracyPlotsItsLabelErrorRate() {
        let history = (1...3).map { e in
            var report = EpochReport(epoch: e, trainLoss: 3 / Float(e), trainAccuracy: nil, testLoss: 3.5 / Float(e),
                                     testAccuracy: nil, learningRate: 0.001, elapsedSeconds: Double(e))
            report.testLabelErrorRate = 0.9 / Float(e)
            return report
        }
        let svg = LearningCurves.svg(history)
        #expect(svg.contains(">Label error rate<") && !svg.contains(">Accuracy<"))
        #expect(svg.components(separatedBy: ">train<").count - 1 == 1 && svg.components(separatedBy: ">test<").count - 1 == 2)
    }

    @Test func ticksAreRoundAndCoverTheRange() {
        #expect(LearningCurves.ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(LearningCurves.ticks(1, 30, count: 8) == [5, 10, 15, 20, 25, 30])
        #expect(LearningCurves.ticks(0.31, 0.42).allSatisfy { (0.31...0.42).contains($0) })
    }
}
