/// A named experiment: a model spec and the training settings the reference C++ library used for
/// it (its Keras scripts, `History/<experiment>/Keras.py` in `paperrune/deeplearning-study`), with
/// its published MNIST test accuracies for comparison (Fashion-MNIST figures are lower).
/// `nn train --preset NAME` trains one; flags given beside it override its settings.
public struct Preset: Sendable, Equatable {
    public let name: String
    public let about: String
    /// A ``ModelSpec``; `classes` is the data's class count.
    public let model: String
    /// A loss's type name (`categorical_crossentropy`, `mean_squared_error`).
    public let loss: String
    /// `sgd`, `adam`, `adamw`, `rmsprop` or `adagrad`.
    public let optimizer: String
    public let learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let decay: Float
    public let epochs: Int
    public let batchSize: Int
    /// Whether the training set is reshuffled each epoch (the reference's MLP scripts: no).
    public let shuffle: Bool
    /// The reference library's and Keras' MNIST test accuracy.
    public let mnistAccuracy: (reference: Double, keras: Double)?
    /// Gradients scaled to this global norm at most (none in the reference's scripts; the ReLU RNNs
    /// need it on Fashion-MNIST, where their gradients explode in epoch 2 or 3, in PyTorch too).
    public var clipNorm: Float? = nil
    /// Lines of images to train and test on instead of the images (``ImageLines``), for a sequence loss.
    public var lines: (train: Int, test: Int)? = nil

    public static func == (a: Preset, b: Preset) -> Bool { a.name == b.name && a.model == b.model }

    /// The reference's MLP weights: uniform in ±0.01, zero biases.
    private static func dense(_ units: String, _ activation: Activation) -> String {
        "dense(\(units), \(activation.rawValue), kernel_initializer=random_uniform(low=-0.01, high=0.01))"
    }

    private static func mlp(_ activation: Activation, dropout: Bool = false) -> String {
        let hidden = dense("512", activation) + (dropout ? " dropout(0.5)" : "")
        return "flatten \(hidden) \(hidden) \(dense("classes", .softmax))"
    }

    /// One of the reference's one-layer models: plain SGD for 20 epochs, not shuffled.
    private static func singleLayer(_ name: String, _ about: String, _ activation: Activation, loss: String,
                                    learningRate: Float, batchSize: Int, mnist: (Double, Double)) -> Preset {
        Preset(name: name, about: about, model: "flatten " + dense("classes", activation), loss: loss, optimizer: "sgd",
               learningRate: learningRate, momentum: 0, nesterov: false, decay: 0, epochs: 20, batchSize: batchSize,
               shuffle: false, mnistAccuracy: mnist)
    }

    /// One of the reference's multilayer perceptrons: cross-entropy, SGD, batch 128, not shuffled.
    private static func mlpPreset(_ name: String, _ about: String, _ activation: Activation, dropout: Bool = false,
                                  learningRate: Float, momentum: Float = 0, nesterov: Bool = false, epochs: Int = 30,
                                  mnist: (Double, Double)) -> Preset {
        Preset(name: name, about: about, model: mlp(activation, dropout: dropout), loss: CategoricalCrossEntropy.typeName,
               optimizer: "sgd", learningRate: learningRate, momentum: momentum, nesterov: nesterov, decay: 0,
               epochs: epochs, batchSize: 128, shuffle: false, mnistAccuracy: mnist)
    }

    /// The reference experiment: `nn train`'s default.
    public static let reference = Preset(
        name: "bilstm", about: "BiLSTM(128), hard-sigmoid gates, Nesterov SGD 0.1",
        model: "bilstm(128, recurrent_activation=hard_sigmoid) dense(classes, softmax)",
        loss: CategoricalCrossEntropy.typeName, optimizer: "sgd", learningRate: 0.1, momentum: 0.9, nesterov: true,
        decay: 1e-6, epochs: 30, batchSize: 128, shuffle: true, mnistAccuracy: (0.9905, 0.9907))

    public static let all: [Preset] = [
        singleLayer("perceptron", "784 → 10 sigmoid, mean squared error, SGD 0.1, batch 1", .sigmoid,
                    loss: MeanSquaredError.typeName, learningRate: 0.1, batchSize: 1, mnist: (0.9198, 0.9223)),
        singleLayer("batch", "784 → 10 sigmoid, mean squared error, SGD 0.5, batch 128", .sigmoid,
                    loss: MeanSquaredError.typeName, learningRate: 0.5, batchSize: 128, mnist: (0.9087, 0.9088)),
        singleLayer("softmax", "784 → 10 softmax, cross-entropy, SGD 0.5", .softmax,
                    loss: CategoricalCrossEntropy.typeName, learningRate: 0.5, batchSize: 128, mnist: (0.9185, 0.9187)),
        mlpPreset("mlp", "784-512σ-512σ-10 softmax, SGD 1.0", .sigmoid, learningRate: 1, mnist: (0.9767, 0.9776)),
        mlpPreset("tanh", "the MLP with tanh, SGD 0.5", .tanh, learningRate: 0.5, mnist: (0.9795, 0.9788)),
        mlpPreset("relu", "the MLP with ReLU, SGD 0.5", .relu, learningRate: 0.5, mnist: (0.9828, 0.9837)),
        mlpPreset("dropout", "the ReLU MLP with dropout 0.5 after each hidden layer, SGD 0.5", .relu, dropout: true,
                  learningRate: 0.5, epochs: 50, mnist: (0.9849, 0.9853)),
        mlpPreset("momentum", "the ReLU MLP, SGD 0.1 with momentum 0.9", .relu, learningRate: 0.1, momentum: 0.9,
                  mnist: (0.9864, 0.9866)),
        mlpPreset("nesterov", "the ReLU MLP, SGD 0.1 with Nesterov momentum 0.9", .relu, learningRate: 0.1, momentum: 0.9,
                  nesterov: true, mnist: (0.9856, 0.9870)),
        Preset(name: "rnn", about: "SimpleRNN(128, relu) over the rows, last state, SGD 0.05", model: "rnn(128, relu) dense(classes, softmax)",
               loss: CategoricalCrossEntropy.typeName, optimizer: "sgd", learningRate: 0.05, momentum: 0, nesterov: false,
               decay: 1e-6, epochs: 100, batchSize: 128, shuffle: true, mnistAccuracy: (0.9834, 0.9842), clipNorm: 1),
        Preset(name: "birnn", about: "SimpleRNN(128, relu) both ways, last states joined, SGD 0.03",
               model: "birnn(128, relu) dense(classes, softmax)", loss: CategoricalCrossEntropy.typeName,
               optimizer: "sgd", learningRate: 0.03, momentum: 0, nesterov: false, decay: 1e-6, epochs: 100,
               batchSize: 128, shuffle: true, mnistAccuracy: nil, clipNorm: 1),
        Preset(name: "bigru", about: "BiGRU(128), the reference model's training with GRUs for LSTMs",
               model: "bigru(128) dense(classes, softmax)", loss: CategoricalCrossEntropy.typeName, optimizer: "sgd",
               learningRate: 0.1, momentum: 0.9, nesterov: true, decay: 1e-6, epochs: 30, batchSize: 128, shuffle: true,
               mnistAccuracy: nil),
        Preset(name: "ctc-lines", about: "lines of 1–5 images by columns, BiGRU(128), CTC, Adam",
               model: "reshape([-1, 56]) bigru(128, return_sequences=true) timedistributed(dense(classes, softmax))",
               loss: CTCLoss.typeName, optimizer: "adam", learningRate: 0.001, momentum: 0, nesterov: false, decay: 0,
               epochs: 10, batchSize: 32, shuffle: true, mnistAccuracy: nil, lines: (train: 20_000, test: 2_000)),
        reference,
    ] + convolutional

    /// A convolution of the reference library's image experiments: `filters` maps of 5×5, weights
    /// uniform ±0.1 (or He-normal), then ReLU, with batch normalisation between them when `normalized`.
    private static func convolution(_ filters: Int, heNormal: Bool, normalized: Bool, stride: Int = 1) -> String {
        let initializer = heNormal ? "he_normal" : "random_uniform(low=-0.1, high=0.1)"
        let strides = stride == 1 ? "" : ", strides=\(stride)"
        return normalized ? "conv(\(filters), 5x5\(strides), kernel_initializer=\(initializer)) batchnorm relu"
            : "conv(\(filters), 5x5, relu\(strides), kernel_initializer=\(initializer))"
    }

    /// conv 24 → max-pool → conv 48 → max-pool → flatten (768 for 28×28) → dense 512 ReLU → softmax;
    /// with `separable` the second convolution is depthwise 5×5 then pointwise to 48 maps.
    private static func pooledCNN(heNormal: Bool, normalized: Bool, separable: Bool = false) -> String {
        let hidden = heNormal ? "dense(512, kernel_initializer=he_normal)" + (normalized ? " batchnorm relu" : " relu")
            : dense("512", .relu)
        let second = separable
            ? "separable(48, 5x5, depthwise_initializer=he_normal, pointwise_initializer=he_normal) batchnorm relu"
            : convolution(48, heNormal: heNormal, normalized: normalized)
        return [convolution(24, heNormal: heNormal, normalized: normalized), "maxpool(2x2)", second, "maxpool(2x2)",
                "flatten", hidden,
                heNormal ? "dense(classes, softmax, kernel_initializer=he_normal)" : dense("classes", .softmax)]
            .joined(separator: " ")
    }

    private static func cnnPreset(_ name: String, _ about: String, model: String, learningRate: Float, momentum: Float = 0,
                                  nesterov: Bool = false, decay: Float, epochs: Int = 30, mnist: (Double, Double)?) -> Preset {
        Preset(name: name, about: about, model: model, loss: CategoricalCrossEntropy.typeName, optimizer: "sgd",
               learningRate: learningRate, momentum: momentum, nesterov: nesterov, decay: decay, epochs: epochs,
               batchSize: 128, shuffle: false, mnistAccuracy: mnist)
    }

    /// The reference library's convolutional experiments (its Keras scripts: batch 128, no shuffling).
    static let convolutional: [Preset] = [
        cnnPreset("cnn", "conv 24 maps 5×5 stride 2 ReLU, dense 512 ReLU, Nesterov SGD 0.1",
                  model: convolution(24, heNormal: false, normalized: false, stride: 2) + " flatten "
                      + dense("512", .relu) + " " + dense("classes", .softmax),
                  learningRate: 0.1, momentum: 0.9, nesterov: true, decay: 0, mnist: (0.9892, 0.9888)),
        cnnPreset("cnn-pool", "conv 24 5×5, max-pool, conv 48 5×5, max-pool, dense 512, SGD 0.5",
                  model: pooledCNN(heNormal: false, normalized: false), learningRate: 0.5, decay: 1e-6, mnist: (0.9931, 0.9930)),
        cnnPreset("cnn-he", "cnn-pool with He-normal weights", model: pooledCNN(heNormal: true, normalized: false),
                  learningRate: 0.5, decay: 1e-6, mnist: (0.9936, 0.9931)),
        cnnPreset("cnn-bn", "cnn-he with batch normalisation before each ReLU, SGD 0.5, 20 epochs",
                  model: pooledCNN(heNormal: true, normalized: true), learningRate: 0.5, decay: 0, epochs: 20,
                  mnist: (0.9936, 0.9942)),
        cnnPreset("separable", "cnn-bn with a separable second convolution (depthwise, pointwise)",
                  model: pooledCNN(heNormal: true, normalized: true, separable: true), learningRate: 0.5, decay: 0,
                  epochs: 20, mnist: nil),
    ]

    public static func named(_ name: String) -> Preset? { all.first { $0.name == name } }
}
