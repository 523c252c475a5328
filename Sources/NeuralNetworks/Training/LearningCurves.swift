import Foundation

/// Learning curves as an SVG picture: loss and accuracy against epochs, train and test, with
/// axes, ticks, labels and a legend in each panel.
public enum LearningCurves {
    public static func svg(_ history: [EpochReport], title: String = "Training history") -> String {
        let panelWidth = 440.0, panelHeight = 320.0, top = 50.0
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(2 * panelWidth + 20))" height="\(Int(panelHeight + top + 20))" \
            viewBox="0 0 \(Int(2 * panelWidth + 20)) \(Int(panelHeight + top + 20))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(panelWidth + 10))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\(escape(title))</text>

            """
        let epochs = history.map { Double($0.epoch) }
        // A CTC run has no accuracy: its second panel is the test lines' label error rate.
        let labelErrors = history.allSatisfy { $0.trainAccuracy == nil && $0.testAccuracy == nil }
            && history.contains { $0.testLabelErrorRate != nil }
        let panels: [(String, [Double?], [Double?])] = [
            ("Loss", history.map { Double($0.trainLoss) }, history.map { $0.testLoss.map(Double.init) }),
            labelErrors ? ("Label error rate", history.map { _ in nil }, history.map { $0.testLabelErrorRate.map(Double.init) })
                : ("Accuracy", history.map { $0.trainAccuracy.map(Double.init) }, history.map { $0.testAccuracy.map(Double.init) }),
        ]
        for (index, panel) in panels.enumerated() {
            // A series without a value (a CTC run's training label errors) has no line, nor a legend entry.
            let series = [("train", panel.1, "#1f77b4", ""), ("test", panel.2, "#ff7f0e", "6 4")]
                .filter { $0.1.contains { $0 != nil } }
            out += Panel(title: panel.0, x: epochs, series: series,
                         originX: 10 + Double(index) * panelWidth, originY: top, width: panelWidth, height: panelHeight).render()
        }
        return out + "</svg>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Round tick values covering `low...high`, about `count` of them (steps of 1, 2 or 5 × 10^k).
    static func ticks(_ low: Double, _ high: Double, count: Int = 5) -> [Double] {
        let span = max(high - low, 1e-9)
        let raw = span / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = ceil(low / step - 1e-9) * step
        // Rounded to 12 decimals (3 × 0.2 is 0.6000000000000001), and −0 made 0.
        return stride(from: first, through: high + step * 1e-9, by: step).map { (($0 / step).rounded() * step * 1e12).rounded() / 1e12 + 0 }
    }

    static func label(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e6 { return String(Int(value)) }
        var text = String(format: "%.4f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    private struct Panel {
        let title: String
        let x: [Double]
        let series: [(name: String, values: [Double?], colour: String, dash: String)]
        let originX, originY, width, height: Double

        func render() -> String {
            let left = originX + 60, right = originX + width - 20, top = originY + 10, bottom = originY + height - 45
            let xs = x.isEmpty ? [1.0] : x
            let xLow = xs.min()!, xHigh = max(xs.max()!, xLow + 1)
            let values = series.flatMap { $0.values.compactMap { $0 } }.filter(\.isFinite)
            var yLow = values.min() ?? 0, yHigh = values.max() ?? 1
            let pad = max((yHigh - yLow) * 0.08, 1e-3)
            yLow = max(0, yLow - pad)
            yHigh += pad
            let xTicks = LearningCurves.ticks(xLow, xHigh, count: min(8, max(1, Int(xHigh - xLow))))
                .filter { $0 == $0.rounded() && $0 >= xLow && $0 <= xHigh }
            let yTicks = LearningCurves.ticks(yLow, yHigh)
            func px(_ v: Double) -> Double { left + (v - xLow) / (xHigh - xLow) * (right - left) }
            func py(_ v: Double) -> Double { bottom - (v - yLow) / (yHigh - yLow) * (bottom - top) }
            func f(_ v: Double) -> String { String(format: "%.1f", v) }

            var svg = "<g>\n"
            svg += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(top - 0))\" text-anchor=\"middle\" font-weight=\"bold\">\(title)</text>\n"
            for tick in yTicks where tick >= yLow && tick <= yHigh {
                svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(tick)))\" x2=\"\(f(right))\" y2=\"\(f(py(tick)))\" stroke=\"#e5e5e5\"/>\n"
                svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\">\(LearningCurves.label(tick))</text>\n"
            }
            for tick in xTicks {
                svg += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(bottom))\" x2=\"\(f(px(tick)))\" y2=\"\(f(bottom + 5))\" stroke=\"black\"/>\n"
                svg += "<text x=\"\(f(px(tick)))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(LearningCurves.label(tick))</text>\n"
            }
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(right))\" y2=\"\(f(bottom))\" stroke=\"black\"/>\n"
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(bottom))\" stroke=\"black\"/>\n"
            svg += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(bottom + 36))\" text-anchor=\"middle\">epoch</text>\n"
            svg += "<text transform=\"translate(\(f(originX + 14)) \(f((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(title.lowercased())</text>\n"
            for line in series {
                let points = zip(x, line.values).compactMap { x, v in v.flatMap { $0.isFinite ? (x, $0) : nil } }
                guard !points.isEmpty else { continue }
                let path = points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
                let dash = line.dash.isEmpty ? "" : " stroke-dasharray=\"\(line.dash)\""
                svg += "<polyline class=\"\(line.name)\" points=\"\(path)\" fill=\"none\" stroke=\"\(line.colour)\" stroke-width=\"2\"\(dash)/>\n"
                for (x, v) in points {
                    svg += "<circle cx=\"\(f(px(x)))\" cy=\"\(f(py(v)))\" r=\"3\" fill=\"\(line.colour)\"/>\n"
                }
            }
            // Legend on a white box, in the corner the curves leave free: loss falls, accuracy rises.
            let legendTop = title == "Accuracy" ? bottom - 18 * Double(series.count) - 14 : top + 4
            if !series.isEmpty {
                svg += "<rect x=\"\(f(right - 96))\" y=\"\(f(legendTop))\" width=\"90\" height=\"\(f(18 * Double(series.count) + 8))\" fill=\"white\" stroke=\"#cccccc\"/>\n"
            }
            for (index, line) in series.enumerated() {
                let y = legendTop + 13 + Double(index) * 18, x0 = right - 90
                let dash = line.dash.isEmpty ? "" : " stroke-dasharray=\"\(line.dash)\""
                svg += "<line x1=\"\(f(x0))\" y1=\"\(f(y))\" x2=\"\(f(x0 + 28))\" y2=\"\(f(y))\" stroke=\"\(line.colour)\" stroke-width=\"2\"\(dash)/>\n"
                svg += "<text x=\"\(f(x0 + 34))\" y=\"\(f(y + 4))\">\(line.name)</text>\n"
            }
            return svg + "</g>\n"
        }
    }
}
