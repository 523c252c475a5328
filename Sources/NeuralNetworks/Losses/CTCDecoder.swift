import Foundation

/// Label sequences from the per-step outputs of a model trained with ``CTCLoss``
/// (`[batch, steps, classes + 1]`, probabilities or logits: both rank the same), and the edit
/// distance that scores them. Decoded labels are classes: the blank's output index is skipped,
/// as in the loss.
public enum CTCDecoder {
    /// Best path (Keras' `ctc_decode(greedy=True)`): the most likely output at each step, repeats
    /// merged, blanks dropped. With `stepCounts`, sample b's first `stepCounts[b]` steps only.
    public static func greedy(_ outputs: Tensor, blank: Int, stepCounts: [Int]? = nil) -> [[Int]] {
        let (batch, steps, width) = dimensions(outputs)
        return (0..<batch).map { b in
            var labels: [Int] = [], previous = -1
            for t in 0..<min(stepCounts?[b] ?? steps, steps) {
                let row = (b * steps + t) * width
                var best = 0
                for k in 1..<width where outputs.scalars[row + k] > outputs.scalars[row + best] { best = k }
                if best != blank && best != previous { labels.append(best < blank ? best : best - 1) }
                previous = best
            }
            return labels
        }
    }

    /// Prefix beam search (Hannun et al. 2014): keeps the `width` most probable label prefixes,
    /// each with the probability of its alignments ending in a blank and ending in its last
    /// label, so that paths that collapse to the same labels add up. `outputs` are probabilities
    /// (a softmax per step). Returns each sample's most probable sequence. With `stepCounts`,
    /// sample b's first `stepCounts[b]` steps only.
    public static func beamSearch(_ outputs: Tensor, blank: Int, beamWidth: Int = 16, stepCounts: [Int]? = nil) -> [[Int]] {
        precondition(beamWidth >= 1, "the beam holds at least one prefix")
        let (batch, steps, width) = dimensions(outputs)
        struct Score { var blank = -Double.infinity, label = -Double.infinity
            var total: Double { CTCAlignment.logAdd(blank, label) }
        }
        return (0..<batch).map { b in
            var beams: [[Int]: Score] = [[]: Score(blank: 0)]
            for t in 0..<min(stepCounts?[b] ?? steps, steps) {
                let row = (b * steps + t) * width
                let logY = (0..<width).map { log(max(Double(outputs.scalars[row + $0]), 1e-30)) }
                var next: [[Int]: Score] = [:]
                for (prefix, score) in beams {
                    // A blank, or the prefix's last label again without a blank between: same prefix.
                    next[prefix, default: Score()].blank = CTCAlignment.logAdd(next[prefix, default: Score()].blank,
                                                                               score.total + logY[blank])
                    if let last = prefix.last {
                        next[prefix, default: Score()].label = CTCAlignment.logAdd(next[prefix, default: Score()].label,
                                                                                   score.label + logY[last])
                    }
                    for k in 0..<width where k != blank {
                        // A new label: after a blank always; after the same label only from a blank ending.
                        let extended = prefix + [k]
                        let from = prefix.last == k ? score.blank : score.total
                        next[extended, default: Score()].label = CTCAlignment.logAdd(next[extended, default: Score()].label,
                                                                                     from + logY[k])
                    }
                }
                beams = Dictionary(uniqueKeysWithValues: next.sorted { $0.value.total > $1.value.total }.prefix(beamWidth)
                    .map { ($0.key, $0.value) })
            }
            let best = beams.max { $0.value.total < $1.value.total }!.key
            return best.map { $0 < blank ? $0 : $0 - 1 }
        }
    }

    /// Levenshtein distance: insertions, deletions and substitutions turning `a` into `b`.
    public static func editDistance(_ a: [Int], _ b: [Int]) -> Int {
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count), current = previous
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// Σ edit distance ÷ Σ reference length over the pairs: the label error rate.
    public static func labelErrorRate(_ decoded: [[Int]], _ references: [[Int]]) -> Double {
        let edits = zip(decoded, references).reduce(0) { $0 + editDistance($1.0, $1.1) }
        return Double(edits) / Double(max(references.reduce(0) { $0 + $1.count }, 1))
    }

    private static func dimensions(_ outputs: Tensor) -> (Int, Int, Int) {
        precondition(outputs.shape.count == 3, "CTC outputs are [batch, steps, classes + 1], got \(outputs.shape)")
        return (outputs.shape[0], outputs.shape[1], outputs.shape[2])
    }
}
