import Testing
@testable import NeuralNetworks

struct TensorTests {
    @Test func subscriptIsRowMajor() {
        var t = Tensor(zeros: [2, 3])
        t[1, 2] = 5
        #expect(t.scalars == [0, 0, 0, 0, 0, 5])
        #expect(t[1, 2] == 5)
    }

    @Test func reshapeKeepsScalars() {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.reshaped([3, 2]).scalars == t.scalars)
        #expect(t.reshaped([6]).shape == [6])
    }
}
