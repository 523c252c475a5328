/// The passes of batch normalisation over rows of `width` values (channels last), shared by the
/// ``BatchNormalization`` layer (statistics over every row) and recurrent layers' per-step
/// normalisation (``StepNormalization``: each step's real rows):
///
///     y = γ ⊙ (x − μ) / √(σ² + ε) + β
///
/// Training uses the mean and biased variance of the chosen rows and moves the averages
/// (`moving = momentum · moving + (1 − momentum) · batch`, the variance unbiased as PyTorch's
/// running variance); inference uses the moving averages.
enum BatchNormalizationMath {
    /// Normalises rows `0..<count` of `values` in place with the statistics of `rows` (a subset,
    /// or all of them), keeping x̂ in `normalized` and 1/√(σ² + ε) in `inverse` for backward.
    static func trainingForward<Rows: Collection<Int>>(
        _ values: UnsafeMutablePointer<Float>, count: Int, statisticsOf rows: Rows, width: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float, momentum: Float,
        movingMean: UnsafeMutablePointer<Float>, movingVariance: UnsafeMutablePointer<Float>,
        normalized: UnsafeMutablePointer<Float>, inverse: UnsafeMutablePointer<Float>
    ) {
        guard !rows.isEmpty else { return }
        let n = Float(rows.count)
        var mean = [Double](repeating: 0, count: width), variance = mean
        for row in rows { for j in 0..<width { mean[j] += Double(values[row * width + j]) } }
        for j in 0..<width { mean[j] /= Double(n) }
        for row in rows {
            for j in 0..<width {
                let d = Double(values[row * width + j]) - mean[j]
                variance[j] += d * d
            }
        }
        var shift = [Float](repeating: 0, count: width)
        for j in 0..<width {
            let biased = Float(variance[j] / Double(n))
            inverse[j] = 1 / (biased + epsilon).squareRoot()
            shift[j] = Float(mean[j])
            movingMean[j] = momentum * movingMean[j] + (1 - momentum) * Float(mean[j])
            let unbiased = rows.count > 1 ? Float(variance[j] / Double(n - 1)) : biased
            movingVariance[j] = momentum * movingVariance[j] + (1 - momentum) * unbiased
        }
        for row in 0..<count {
            let v = values + row * width, x = normalized + row * width
            for j in 0..<width {
                x[j] = (v[j] - shift[j]) * inverse[j]
                v[j] = gamma[j] * x[j] + beta[j]
            }
        }
    }

    /// Normalises `count` rows in place with the moving averages.
    static func inferenceForward(_ values: UnsafeMutablePointer<Float>, count: Int, width: Int,
                                 gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float,
                                 movingMean: UnsafePointer<Float>, movingVariance: UnsafePointer<Float>) {
        var scale = [Float](repeating: 0, count: width), shift = scale
        for j in 0..<width {
            scale[j] = gamma[j] / (movingVariance[j] + epsilon).squareRoot()
            shift[j] = beta[j] - movingMean[j] * scale[j]
        }
        for row in 0..<count {
            let v = values + row * width
            for j in 0..<width { v[j] = v[j] * scale[j] + shift[j] }
        }
    }

    /// Backward in place: `gradients` of rows `0..<count` (with respect to y) become those with
    /// respect to x; rows outside `rows` (that gave no statistics) get zero. Adds γ's and β's gradients.
    static func backward<Rows: Collection<Int>>(
        _ gradients: UnsafeMutablePointer<Float>, count: Int, statisticsOf rows: Rows, width: Int,
        gamma: UnsafePointer<Float>, normalized: UnsafePointer<Float>, inverse: UnsafePointer<Float>,
        gammaGradient: UnsafeMutablePointer<Float>, betaGradient: UnsafeMutablePointer<Float>
    ) {
        if rows.count < count {
            var isStatistic = [Bool](repeating: false, count: count)
            for row in rows { isStatistic[row] = true }
            for row in 0..<count where !isStatistic[row] { (gradients + row * width).update(repeating: 0, count: width) }
        }
        guard !rows.isEmpty else { return }
        let n = Float(rows.count)
        var sum = [Float](repeating: 0, count: width), sumNormalized = sum
        for row in rows {
            for j in 0..<width {
                let dy = gradients[row * width + j]
                sum[j] += dy
                sumNormalized[j] += dy * normalized[row * width + j]
            }
        }
        var scale = [Float](repeating: 0, count: width)
        for j in 0..<width {
            gammaGradient[j] += sumNormalized[j]
            betaGradient[j] += sum[j]
            (sum[j], sumNormalized[j]) = (sum[j] / n, sumNormalized[j] / n)
            scale[j] = gamma[j] * inverse[j]
        }
        // dx = γ / σ · (dy − mean(dy) − x̂ · mean(dy · x̂)), the means over the statistics' rows.
        for row in rows {
            let dy = gradients + row * width, x = normalized + row * width
            for j in 0..<width { dy[j] = scale[j] * (dy[j] - sum[j] - x[j] * sumNormalized[j]) }
        }
    }
}
