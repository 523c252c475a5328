#!/usr/bin/env python3
"""Writes the PyTorch parity fixtures under Tests/NeuralNetworksTests/Fixtures/.

Run with a Python that has torch and numpy (see scripts/README.md):
    python scripts/make_fixtures.py
Each fixture holds small fixed weights and inputs, PyTorch's outputs, and the gradients of
loss = sum(output * upstream) for a fixed random `upstream`. Weights are converted to the
Keras layout NeuralNetworks uses: kernel = weight_ih.T, recurrent_kernel = weight_hh.T,
bias = bias_ih + bias_hh (gate order i, f, g, o in both), Dense kernel = Linear.weight.T.
"""
import json
import os
import struct
import sys
import zlib

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NeuralNetworksTests", "Fixtures")
B, T, F, U = 2, 5, 3, 4


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def entry(t):
    return {"shape": list(t.shape), "values": flat(t)}


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def randomize(module, generator):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.5)


def lstm_direction(lstm, suffix):
    g = lambda name: getattr(lstm, name + suffix)
    return {
        "kernel": entry(g("weight_ih_l0").T), "recurrent_kernel": entry(g("weight_hh_l0").T),
        "bias": entry(g("bias_ih_l0") + g("bias_hh_l0")),
    }


def lstm_direction_gradients(lstm, suffix):
    g = lambda name: getattr(lstm, name + suffix).grad
    return {
        "kernel": entry(g("weight_ih_l0").T), "recurrent_kernel": entry(g("weight_hh_l0").T),
        "bias": entry(g("bias_ih_l0")),  # equal to bias_hh's gradient
    }


def lstm_fixture(generator):
    lstm = nn.LSTM(F, U, batch_first=True)
    randomize(lstm, generator)
    x = torch.randn(B, T, F, generator=generator, requires_grad=True)
    out, _ = lstm(x)
    upstream = torch.randn(B, T, U, generator=generator)
    (out * upstream).sum().backward()
    write("lstm_sigmoid.json", {
        "about": "nn.LSTM(3, 4, batch_first=True), sigmoid gates, return sequences",
        "weights": lstm_direction(lstm, ""), "input": entry(x), "output": entry(out),
        "upstream": entry(upstream), "input_gradient": entry(x.grad),
        "gradients": lstm_direction_gradients(lstm, ""),
    })


def bilstm_fixture(generator):
    lstm = nn.LSTM(F, U, batch_first=True, bidirectional=True)
    randomize(lstm, generator)
    x0 = torch.randn(B, T, F, generator=generator)
    cases = {}
    for mode in ("last", "sequences"):
        lstm.zero_grad()
        x = x0.clone().requires_grad_(True)
        out, (h_n, _) = lstm(x)
        # "last": forward's last state and backward's final state (at step 0) = h_n.
        y = torch.cat((h_n[0], h_n[1]), dim=1) if mode == "last" else out
        upstream = torch.randn(y.shape, generator=generator)
        (y * upstream).sum().backward()
        cases[mode] = {
            "output": entry(y), "upstream": entry(upstream), "input_gradient": entry(x.grad),
            "forward_gradients": lstm_direction_gradients(lstm, ""),
            "backward_gradients": lstm_direction_gradients(lstm, "_reverse"),
        }
    write("bilstm_sigmoid.json", {
        "about": "nn.LSTM(3, 4, batch_first=True, bidirectional=True), sigmoid gates",
        "forward": lstm_direction(lstm, ""), "backward": lstm_direction(lstm, "_reverse"),
        "input": entry(x0), **cases,
    })


def gru_weights(w_ih, w_hh, b_ih, b_hh=None):
    """PyTorch's GRU tensors (gates r, z, n) in our layout: transposed, gates z, r, h."""
    def ours(t):
        r, z, n = t.chunk(3, dim=0)
        return torch.cat([z, r, n], dim=0)
    weights = {"kernel": entry(ours(w_ih).T), "recurrent_kernel": entry(ours(w_hh).T), "bias": entry(ours(b_ih))}
    if b_hh is not None:
        weights["recurrent_bias"] = entry(ours(b_hh))
    return weights


def original_gru(x, w_ih, w_hh, b):
    """The GRU of Cho et al. (Keras reset_after=False), written out in PyTorch's gate layout:
    n = tanh(x·W_n + (r ⊙ h)·U_n + b_n). nn.GRU has no such mode."""
    w_r, w_z, w_n = w_ih.chunk(3)
    u_r, u_z, u_n = w_hh.chunk(3)
    b_r, b_z, b_n = b.chunk(3)
    h = torch.zeros(x.shape[0], w_hh.shape[1])
    outputs = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        z = torch.sigmoid(xt @ w_z.T + h @ u_z.T + b_z)
        r = torch.sigmoid(xt @ w_r.T + h @ u_r.T + b_r)
        n = torch.tanh(xt @ w_n.T + (r * h) @ u_n.T + b_n)
        h = z * h + (1 - z) * n
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def gru_fixture(generator):
    gru = nn.GRU(F, U, batch_first=True)
    randomize(gru, generator)
    x = torch.randn(B, T, F, generator=generator, requires_grad=True)
    out, _ = gru(x)
    upstream = torch.randn(B, T, U, generator=generator)
    (out * upstream).sum().backward()
    g = lambda name: getattr(gru, name)
    reset_after = {
        "weights": gru_weights(g("weight_ih_l0"), g("weight_hh_l0"), g("bias_ih_l0"), g("bias_hh_l0")),
        "input": entry(x), "output": entry(out), "upstream": entry(upstream), "input_gradient": entry(x.grad),
        "gradients": gru_weights(g("weight_ih_l0").grad, g("weight_hh_l0").grad, g("bias_ih_l0").grad,
                                 g("bias_hh_l0").grad),
    }
    w_ih = (torch.randn(3 * U, F, generator=generator) * 0.5).requires_grad_(True)
    w_hh = (torch.randn(3 * U, U, generator=generator) * 0.5).requires_grad_(True)
    b = (torch.randn(3 * U, generator=generator) * 0.5).requires_grad_(True)
    x = torch.randn(B, T, F, generator=generator, requires_grad=True)
    out = original_gru(x, w_ih, w_hh, b)
    upstream = torch.randn(B, T, U, generator=generator)
    (out * upstream).sum().backward()
    original = {
        "weights": gru_weights(w_ih, w_hh, b), "input": entry(x), "output": entry(out), "upstream": entry(upstream),
        "input_gradient": entry(x.grad), "gradients": gru_weights(w_ih.grad, w_hh.grad, b.grad),
    }
    write("gru.json", {
        "about": "nn.GRU(3, 4, batch_first=True) (reset after), and the original GRU written out in PyTorch; "
                 "return sequences; weights in our layout (transposed, gates z, r, h)",
        "reset_after": reset_after, "original": original,
    })


def ctc_fixture(generator):
    """nn.CTCLoss on log_softmax(logits), its loss and gradient with respect to the logits. Targets
    are stored as our classes: output indices with the blank skipped (PyTorch's minus one when
    the blank is 0). One case has a sequence no alignment fits (its repeats need blanks between)."""
    batch, steps, width = 4, 12, 5
    sequences = [[0, 1, 2], [3, 3, 1, 0], [], [2, 2, 2, 2, 2, 2, 2]]  # the last needs 13 steps: impossible
    cases = []
    for blank, reduction, zero_infinity, rows in [(0, "mean", True, 4), (4, "mean", False, 3),
                                                  (4, "sum_over_batch", False, 3)]:
        logits = (torch.randn(rows, steps, width, generator=generator) * 2).requires_grad_(True)
        chosen = sequences[:rows]
        targets = torch.tensor([c + 1 if blank == 0 else c for seq in chosen for c in seq], dtype=torch.long)
        loss_function = nn.CTCLoss(blank=blank, reduction="mean" if reduction == "mean" else "none",
                                   zero_infinity=zero_infinity)
        loss = loss_function(logits.log_softmax(2).transpose(0, 1), targets, torch.full((rows,), steps),
                             torch.tensor([len(seq) for seq in chosen]))
        if reduction != "mean":
            loss = loss.mean()
        loss.backward()
        cases.append({"blank": blank, "reduction": reduction, "zero_infinity": zero_infinity,
                      "logits": entry(logits), "sequences": chosen, "loss": float(loss.detach()),
                      "gradient": entry(logits.grad)})
    write("ctc.json", {"about": "nn.CTCLoss(blank, reduction, zero_infinity) on log_softmax(logits); "
                                "sum_over_batch is reduction='none' then the batch mean", "cases": cases})


def packed_fixture(generator):
    """Padded sequences with per-sample lengths through PyTorch's packed sequences
    (pack_padded_sequence, enforce_sorted=False): bidirectional nn.RNN (relu), nn.GRU and nn.LSTM.
    The padding holds random values that packing never reads. "sequence": the padded output
    (zeros on padding) and the gradients of sum(output * upstream); "last": each direction's final
    state concatenated (the backward one's is at step 0) and the gradients of sum(last * upstream_last).
    Also nn.CTCLoss with input_lengths (the outputs' real steps)."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    batch, steps, features, units = 3, 5, 3, 4
    lengths = [5, 2, 3]
    cases = {}
    for name, module in [("rnn", nn.RNN(features, units, nonlinearity="relu", batch_first=True, bidirectional=True)),
                         ("gru", nn.GRU(features, units, batch_first=True, bidirectional=True)),
                         ("lstm", nn.LSTM(features, units, batch_first=True, bidirectional=True))]:
        randomize(module, generator)
        x = torch.randn(batch, steps, features, generator=generator)
        upstream = torch.randn(batch, steps, 2 * units, generator=generator)
        upstream_last = torch.randn(batch, 2 * units, generator=generator)

        def run(kind):
            module.zero_grad()
            inputs = x.clone().requires_grad_(True)
            packed = pack_padded_sequence(inputs, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
            out, state = module(packed)
            h = state[0] if isinstance(state, tuple) else state
            if kind == "sequence":
                output, _ = pad_packed_sequence(out, batch_first=True, total_length=steps)
                (output * upstream).sum().backward()
            else:
                output = torch.cat([h[0], h[1]], dim=-1)
                (output * upstream_last).sum().backward()
            return output, inputs.grad

        def weights(suffix, grad):
            g = lambda n: getattr(module, n + suffix).grad if grad else getattr(module, n + suffix)
            if name == "gru":
                return gru_weights(g("weight_ih_l0"), g("weight_hh_l0"), g("bias_ih_l0"), g("bias_hh_l0"))
            return {"kernel": entry(g("weight_ih_l0").T), "recurrent_kernel": entry(g("weight_hh_l0").T),
                    "bias": entry(g("bias_ih_l0") if grad else g("bias_ih_l0") + g("bias_hh_l0"))}

        case = {"weights": {"forward": weights("", False), "backward": weights("_reverse", False)},
                "input": entry(x), "upstream": entry(upstream), "upstream_last": entry(upstream_last)}
        for kind in ["sequence", "last"]:
            output, input_gradient = run(kind)
            case[kind] = {"output": entry(output), "input_gradient": entry(input_gradient),
                          "gradients": {"forward": weights("", True), "backward": weights("_reverse", True)}}
        cases[name] = case
    # CTC on outputs whose samples have 7, 4 and 6 real steps of 7 (blank last).
    ctc_steps, width = 7, 4
    ctc_lengths = [7, 4, 6]
    sequences = [[0, 1, 1], [2], [1, 0]]
    logits = (torch.randn(3, ctc_steps, width, generator=generator) * 2).requires_grad_(True)
    targets = torch.tensor([c for seq in sequences for c in seq], dtype=torch.long)
    loss = nn.CTCLoss(blank=width - 1)(logits.log_softmax(2).transpose(0, 1), targets, torch.tensor(ctc_lengths),
                                      torch.tensor([len(seq) for seq in sequences]))
    loss.backward()
    write("packed.json", {
        "about": "bidirectional nn.RNN(relu)/nn.GRU/nn.LSTM(3, 4) on packed padded sequences (lengths "
                 "[5, 2, 3] of 5 steps), weights per direction in our layout; nn.CTCLoss with input_lengths",
        "lengths": lengths, **cases,
        "ctc": {"lengths": ctc_lengths, "sequences": sequences, "logits": entry(logits), "loss": float(loss.detach()),
                "gradient": entry(logits.grad)},
    })


def conv_fixture(generator):
    """Channels-last convolutions, max pooling and batch normalisation against PyTorch (NCHW inside).
    Kernels in our layout [kh, kw, in, out] (nn.Conv2d's weight permuted); Keras' "same" padding
    as explicit F.pad (extra row and column at the bottom and right). Gradients of
    sum(output * upstream) with respect to the input and every parameter."""
    import torch.nn.functional as fn

    def keras_pads(size, kernel, stride, dilation):
        out = -(-size // stride)
        total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
        return total // 2, total - total // 2

    def nchw(x):
        return x.permute(0, 3, 1, 2)

    def nhwc(x):
        return x.permute(0, 2, 3, 1)

    convolutions = []
    for height, width, channels, filters, kernel, stride, dilation, padding in [
            (7, 6, 3, 4, (3, 3), (1, 1), (1, 1), "valid"), (7, 6, 2, 3, (3, 2), (2, 2), (1, 1), "same"),
            (6, 7, 2, 2, (2, 3), (1, 2), (2, 1), "same")]:
        x = torch.randn(2, height, width, channels, generator=generator, requires_grad=True)
        weight = (torch.randn(filters, channels, *kernel, generator=generator) * 0.5).requires_grad_(True)
        bias = (torch.randn(filters, generator=generator) * 0.5).requires_grad_(True)
        inputs = nchw(x)
        if padding == "same":
            top, bottom = keras_pads(height, kernel[0], stride[0], dilation[0])
            left, right = keras_pads(width, kernel[1], stride[1], dilation[1])
            inputs = fn.pad(inputs, (left, right, top, bottom))
        out = nhwc(fn.conv2d(inputs, weight, bias, stride=stride, dilation=dilation))
        upstream = torch.randn(out.shape, generator=generator)
        (out * upstream).sum().backward()
        convolutions.append({"filters": filters, "kernel_size": list(kernel), "strides": list(stride),
                             "dilation_rate": list(dilation), "padding": padding, "input": entry(x),
                             "kernel": entry(weight.permute(2, 3, 1, 0)), "bias": entry(bias), "output": entry(out),
                             "upstream": entry(upstream), "input_gradient": entry(x.grad),
                             "kernel_gradient": entry(weight.grad.permute(2, 3, 1, 0)), "bias_gradient": entry(bias.grad)})
    poolings = []
    for height, width, pool, stride, padding in [(5, 7, (2, 2), (2, 2), "valid"), (5, 7, (3, 3), (2, 2), "same"),
                                                 (6, 6, (3, 2), (1, 2), "valid")]:
        x = torch.randn(2, height, width, 3, generator=generator, requires_grad=True)
        inputs = nchw(x)
        if padding == "same":
            top, bottom = keras_pads(height, pool[0], stride[0], 1)
            left, right = keras_pads(width, pool[1], stride[1], 1)
            inputs = fn.pad(inputs, (left, right, top, bottom), value=float("-inf"))
        out = nhwc(fn.max_pool2d(inputs, pool, stride))
        upstream = torch.randn(out.shape, generator=generator)
        (out * upstream).sum().backward()
        poolings.append({"pool_size": list(pool), "strides": list(stride), "padding": padding, "input": entry(x),
                         "output": entry(out), "upstream": entry(upstream), "input_gradient": entry(x.grad)})
    depthwise = []
    for height, width, channels, multiplier, kernel, stride, padding in [(6, 5, 3, 2, (3, 3), (2, 2), "same"),
                                                                          (5, 6, 2, 1, (2, 3), (1, 1), "valid")]:
        x = torch.randn(2, height, width, channels, generator=generator, requires_grad=True)
        weight = (torch.randn(channels * multiplier, 1, *kernel, generator=generator) * 0.5).requires_grad_(True)
        bias = (torch.randn(channels * multiplier, generator=generator) * 0.5).requires_grad_(True)
        inputs = nchw(x)
        if padding == "same":
            top, bottom = keras_pads(height, kernel[0], stride[0], 1)
            left, right = keras_pads(width, kernel[1], stride[1], 1)
            inputs = fn.pad(inputs, (left, right, top, bottom))
        out = nhwc(fn.conv2d(inputs, weight, bias, stride=stride, groups=channels))
        upstream = torch.randn(out.shape, generator=generator)
        (out * upstream).sum().backward()
        ours = lambda w: w.reshape(channels, multiplier, *kernel).permute(2, 3, 0, 1)  # noqa: E731
        depthwise.append({"depth_multiplier": multiplier, "kernel_size": list(kernel), "strides": list(stride),
                          "padding": padding, "input": entry(x), "kernel": entry(ours(weight)), "bias": entry(bias),
                          "output": entry(out), "upstream": entry(upstream), "input_gradient": entry(x.grad),
                          "kernel_gradient": entry(ours(weight.grad)), "bias_gradient": entry(bias.grad)})
    averages = []
    for pool, stride, padding in [((2, 2), (2, 2), "valid"), ((3, 3), (2, 2), "same")]:
        x = torch.randn(2, 5, 7, 3, generator=generator, requires_grad=True)
        inputs = nchw(x)
        if padding == "same":
            top, bottom = keras_pads(5, pool[0], stride[0], 1)
            left, right = keras_pads(7, pool[1], stride[1], 1)
            sums = fn.avg_pool2d(fn.pad(inputs, (left, right, top, bottom)), pool, stride)
            counts = fn.avg_pool2d(fn.pad(torch.ones_like(inputs[:, :1]), (left, right, top, bottom)), pool, stride)
            out = nhwc(sums / counts)
        else:
            out = nhwc(fn.avg_pool2d(inputs, pool, stride))
        upstream = torch.randn(out.shape, generator=generator)
        (out * upstream).sum().backward()
        averages.append({"pool_size": list(pool), "strides": list(stride), "padding": padding, "input": entry(x),
                         "output": entry(out), "upstream": entry(upstream), "input_gradient": entry(x.grad)})
    # BatchNorm2d in training mode (momentum 0.1 = ours 0.9, eps 1e-3), then in evaluation mode.
    norm = nn.BatchNorm2d(5, eps=1e-3, momentum=0.1)
    randomize(norm, generator)
    with torch.no_grad():
        norm.running_mean.copy_(torch.randn(5, generator=generator))
        norm.running_var.copy_(torch.rand(5, generator=generator) + 0.5)
    start_mean, start_var = norm.running_mean.clone(), norm.running_var.clone()
    x = (torch.randn(4, 3, 3, 5, generator=generator) * 2 + 1).requires_grad_(True)
    out = nhwc(norm(nchw(x)))
    upstream = torch.randn(out.shape, generator=generator)
    (out * upstream).sum().backward()
    norm.eval()
    evaluation_input = torch.randn(2, 3, 3, 5, generator=generator)
    evaluation = nhwc(norm(nchw(evaluation_input)))
    batch_norm = {"gamma": entry(norm.weight), "beta": entry(norm.bias), "moving_mean": entry(start_mean),
                  "moving_variance": entry(start_var), "input": entry(x), "output": entry(out), "upstream": entry(upstream),
                  "input_gradient": entry(x.grad), "gamma_gradient": entry(norm.weight.grad),
                  "beta_gradient": entry(norm.bias.grad), "moving_mean_after": entry(norm.running_mean),
                  "moving_variance_after": entry(norm.running_var), "evaluation_input": entry(evaluation_input),
                  "evaluation_output": entry(evaluation)}
    write("conv.json", {"about": "channels-last F.conv2d (Keras same padding by F.pad; groups = channels for depthwise), "
                                 "F.max_pool2d (padded with -inf), F.avg_pool2d (same: padding left out of the count), "
                                 "nn.BatchNorm2d(5, eps=1e-3, momentum=0.1) training then eval; kernels [kh, kw, in, out]",
                        "convolutions": convolutions, "poolings": poolings, "batch_norm": batch_norm,
                        "depthwise": depthwise, "averages": averages})


def conv_transpose_fixture(generator):
    """Keras' Conv2DTranspose against F.conv_transpose2d: Keras' output size (deconv_output_length),
    and TensorFlow's placement (the input gradient of a convolution with "same" padding, which pads
    (total // 2) before): PyTorch's unpadded output, with output_padding where Keras' reaches past
    it, cropped from the top and left padding. Kernels in our layout [kh, kw, out, in]
    (nn.ConvTranspose2d's weight [in, out, kh, kw] permuted). Gradients of sum(output * upstream)."""
    import torch.nn.functional as fn

    def keras_length(size, kernel, stride, dilation, padding, output_padding):
        span = (kernel - 1) * dilation + 1
        if output_padding is None:
            return size * stride + max(span - stride, 0) if padding == "valid" else size * stride
        pad = span // 2 if padding == "same" else 0
        return (size - 1) * stride + span - 2 * pad + output_padding

    def placement(size, kernel, stride, dilation, padding, length):
        span = (kernel - 1) * dilation + 1
        top = max((size - 1) * stride + span - length, 0) // 2 if padding == "same" else 0
        return top, max(top + length - ((size - 1) * stride + span), 0)

    cases = []
    for height, width, channels, filters, kernel, stride, dilation, padding, output_padding in [
            (3, 4, 3, 2, (3, 3), (2, 2), (1, 1), "valid", None),
            (4, 3, 2, 3, (3, 2), (2, 2), (1, 1), "same", None),
            (3, 3, 2, 2, (2, 3), (3, 1), (1, 2), "valid", None),
            (3, 4, 2, 2, (3, 3), (2, 2), (1, 1), "same", (1, 0)),
            (2, 3, 1, 2, (4, 4), (2, 3), (1, 1), "same", None)]:
        x = torch.randn(2, height, width, channels, generator=generator, requires_grad=True)
        weight = (torch.randn(channels, filters, *kernel, generator=generator) * 0.5).requires_grad_(True)
        bias = (torch.randn(filters, generator=generator) * 0.5).requires_grad_(True)
        lengths, tops, extras = [], [], []
        for axis, size in enumerate((height, width)):
            op = None if output_padding is None else output_padding[axis]
            length = keras_length(size, kernel[axis], stride[axis], dilation[axis], padding, op)
            top, extra = placement(size, kernel[axis], stride[axis], dilation[axis], padding, length)
            lengths.append(length), tops.append(top), extras.append(extra)
        full = fn.conv_transpose2d(x.permute(0, 3, 1, 2), weight, bias, stride=stride, output_padding=tuple(extras),
                                   dilation=dilation)
        out = full[:, :, tops[0]:tops[0] + lengths[0], tops[1]:tops[1] + lengths[1]].permute(0, 2, 3, 1)
        upstream = torch.randn(out.shape, generator=generator)
        (out * upstream).sum().backward()
        cases.append({"filters": filters, "kernel_size": list(kernel), "strides": list(stride),
                      "dilation_rate": list(dilation), "padding": padding,
                      "output_padding": None if output_padding is None else list(output_padding), "input": entry(x),
                      "kernel": entry(weight.permute(2, 3, 1, 0)), "bias": entry(bias), "output": entry(out),
                      "upstream": entry(upstream), "input_gradient": entry(x.grad),
                      "kernel_gradient": entry(weight.grad.permute(2, 3, 1, 0)), "bias_gradient": entry(bias.grad)})
    write("conv_transpose.json", {"about": conv_transpose_fixture.__doc__, "cases": cases})


def upsampling_fixture(generator):
    """Keras' UpSampling2D against F.interpolate (scale_factor; bilinear with align_corners=False,
    half-pixel centres as TensorFlow 2's resize), channels-last. Gradients of sum(output * upstream)."""
    cases = []
    for height, width, channels, size, mode in [(3, 4, 2, (2, 2), "nearest"), (2, 3, 3, (3, 2), "nearest"),
                                                (3, 4, 2, (2, 2), "bilinear"), (4, 3, 1, (3, 2), "bilinear"),
                                                (1, 2, 2, (2, 4), "bilinear")]:
        x = torch.randn(2, height, width, channels, generator=generator, requires_grad=True)
        options = {"align_corners": False} if mode == "bilinear" else {}
        out = nn.functional.interpolate(x.permute(0, 3, 1, 2), scale_factor=size, mode=mode, **options).permute(0, 2, 3, 1)
        upstream = torch.randn(out.shape, generator=generator)
        (out * upstream).sum().backward()
        cases.append({"size": list(size), "interpolation": mode, "input": entry(x), "output": entry(out),
                      "upstream": entry(upstream), "input_gradient": entry(x.grad)})
    write("upsampling.json", {"about": upsampling_fixture.__doc__, "cases": cases})


def dense_fixture(generator):
    linear = nn.Linear(5, 3)
    randomize(linear, generator)
    x = torch.randn(4, 5, generator=generator, requires_grad=True)
    y = linear(x)
    upstream = torch.randn(y.shape, generator=generator)
    (y * upstream).sum().backward()
    logits = torch.randn(4, 3, generator=generator, requires_grad=True) * 3
    logits.retain_grad()
    labels = torch.tensor([0, 2, 1, 2])
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    write("dense.json", {
        "about": "nn.Linear(5, 3); then softmax cross-entropy (mean) on separate logits",
        "kernel": entry(linear.weight.T), "bias": entry(linear.bias), "input": entry(x),
        "output": entry(y), "upstream": entry(upstream), "input_gradient": entry(x.grad),
        "kernel_gradient": entry(linear.weight.grad.T), "bias_gradient": entry(linear.bias.grad),
        "logits": entry(logits), "labels": labels.tolist(), "loss": float(loss.detach()),
        "logits_gradient": entry(logits.grad),
    })


def embedding_fixture(generator):
    """nn.Embedding(7, 3) on ids [2, 4] (a repeated id, so rows add gradients); loss = sum(output * upstream)."""
    embedding = nn.Embedding(7, 3)
    randomize(embedding, generator)
    ids = torch.tensor([[1, 4, 4, 0], [6, 1, 2, 4]])
    y = embedding(ids)
    upstream = torch.randn(y.shape, generator=generator)
    (y * upstream).sum().backward()
    write("embedding.json", {
        "about": "nn.Embedding(7, 3) on ids [2, 4]; loss = sum(output * upstream)",
        "embeddings": entry(embedding.weight), "ids": entry(ids.float()), "output": entry(y),
        "upstream": entry(upstream), "embeddings_gradient": entry(embedding.weight.grad),
    })


def layer_norm_fixture(generator):
    """nn.LayerNorm(5, eps=1e-3) (Keras' epsilon) on [2, 3, 5], one row of large values; loss = sum(output * upstream).
    Computed in float64 from float32 inputs and weights: float32 PyTorch itself is 3e-4 off on the large row."""
    norm = nn.LayerNorm(5, eps=1e-3)
    randomize(norm, generator)
    norm = norm.double()
    x = torch.randn(2, 3, 5, generator=generator)
    x[1, 2] = x[1, 2] * 0.01 + 1000
    x = x.double().requires_grad_(True)
    y = norm(x)
    upstream = torch.randn(y.shape, generator=generator).float().double()
    (y * upstream).sum().backward()
    write("layer_norm.json", {
        "about": "nn.LayerNorm(5, eps=1e-3) on [2, 3, 5], in float64 from float32 values; loss = sum(output * upstream)",
        "gamma": entry(norm.weight), "beta": entry(norm.bias), "input": entry(x), "output": entry(y),
        "upstream": entry(upstream), "input_gradient": entry(x.grad), "gamma_gradient": entry(norm.weight.grad),
        "beta_gradient": entry(norm.bias.grad),
    })


def attention_fixture(generator):
    """nn.MultiheadAttention(6, 2, batch_first=True) as self-attention mha(x, x, x) on [2, 4, 6]:
    once with key_padding_mask for lengths [4, 3], once causal (attn_mask above the diagonal);
    loss = sum(output * upstream). Weights in our layout: kernel = in_proj_weight.T (Q | K | V),
    output_kernel = out_proj.weight.T. Padded: padding steps take no gradient (upstream 0 there, as
    the layers after give) and attend to nothing in ours (output = out_proj.bias), where PyTorch
    attends from them too; the real steps' values are PyTorch's."""
    attention = nn.MultiheadAttention(6, 2, batch_first=True)
    randomize(attention, generator)
    x = torch.randn(2, 4, 6, generator=generator)
    upstream = torch.randn(2, 4, 6, generator=generator)
    lengths = [4, 3]
    padding = torch.tensor([[t >= n for t in range(4)] for n in lengths])
    causal = torch.ones(4, 4, dtype=torch.bool).triu(1)
    cases = {}
    real = (~padding).float().unsqueeze(-1)
    for case, masks in [("padded", {"key_padding_mask": padding}), ("causal", {"attn_mask": causal})]:
        attention.zero_grad()
        xc = x.clone().requires_grad_(True)
        y = attention(xc, xc, xc, need_weights=False, **masks)[0]
        upstream_case = upstream * real if case == "padded" else upstream
        (y * upstream_case).sum().backward()
        if case == "padded":
            y = y * real + attention.out_proj.bias * (1 - real)
        cases[case] = {
            "output": entry(y), "upstream": entry(upstream_case), "input_gradient": entry(xc.grad),
            "kernel_gradient": entry(attention.in_proj_weight.grad.T), "bias_gradient": entry(attention.in_proj_bias.grad),
            "output_kernel_gradient": entry(attention.out_proj.weight.grad.T),
            "output_bias_gradient": entry(attention.out_proj.bias.grad),
        }
    write("attention.json", {
        "about": "nn.MultiheadAttention(6, 2, batch_first=True) on [2, 4, 6] as mha(x, x, x): padded (lengths [4, 3]) "
                 + "and causal; loss = sum(output * upstream)",
        "kernel": entry(attention.in_proj_weight.T), "bias": entry(attention.in_proj_bias),
        "output_kernel": entry(attention.out_proj.weight.T), "output_bias": entry(attention.out_proj.bias),
        "input": entry(x), "lengths": lengths, **cases,
    })


def window_pooling1d_fixture(generator):
    """Keras' MaxPooling1D(3, 2) (valid) and AveragePooling1D(2, padding="same") on channels-last
    sequences [2, 7, 3]: nn.functional.max_pool1d and avg_pool1d on [N, C, L]; the same average's
    last window holds one step (ceil_mode: PyTorch divides by the steps inside). loss = sum(output * upstream)."""
    x = torch.randn(2, 7, 3, generator=generator)
    cases = {}
    for case, pool in [("max", lambda v: nn.functional.max_pool1d(v, 3, 2)),
                       ("average", lambda v: nn.functional.avg_pool1d(v, 2, 2, ceil_mode=True))]:
        xc = x.clone().requires_grad_(True)
        y = pool(xc.permute(0, 2, 1)).permute(0, 2, 1)
        upstream = torch.randn(y.shape, generator=generator)
        (y * upstream).sum().backward()
        cases[case] = {"output": entry(y), "upstream": entry(upstream), "input_gradient": entry(xc.grad)}
    write("window_pooling1d.json", {
        "about": "max_pool1d(3, 2) and avg_pool1d(2, 2, ceil_mode=True) (Keras' same) on channels-last [2, 7, 3]; "
                 + "loss = sum(output * upstream)",
        "input": entry(x), **cases,
    })


def pooling1d_fixture(generator):
    """Keras' GlobalAveragePooling1D and GlobalMaxPooling1D over each sample's real steps (lengths
    [5, 2, 4] of 5): x[n, :length].mean(0) and .amax(0); loss = sum(output * upstream)."""
    x = torch.randn(3, 5, 4, generator=generator)
    lengths = [5, 2, 4]
    upstream = torch.randn(3, 4, generator=generator)
    cases = {}
    for name, pool in [("average", lambda v: v.mean(0)), ("max", lambda v: v.amax(0))]:
        xs = x.clone().requires_grad_(True)
        y = torch.stack([pool(xs[n, :lengths[n]]) for n in range(3)])
        (y * upstream).sum().backward()
        cases[name] = {"output": entry(y), "input_gradient": entry(xs.grad)}
    write("pooling1d.json", {
        "about": "masked global pooling over steps, lengths [5, 2, 4]; loss = sum(output * upstream)",
        "input": entry(x), "lengths": lengths, "upstream": entry(upstream), **cases,
    })


def sgd_fixture(generator):
    p = torch.randn(7, generator=generator).requires_grad_(True)
    start = p.detach().clone()
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    grads, after = [], []
    for _ in range(3):
        g = torch.randn(7, generator=generator)
        p.grad = g.clone()
        opt.step()
        grads.append(flat(g))
        after.append(flat(p))
    write("sgd_nesterov.json", {
        "about": "torch.optim.SGD(lr=0.1, momentum=0.9, nesterov=True), three steps",
        "learning_rate": 0.1, "momentum": 0.9, "start": flat(start),
        "gradients": grads, "after_each_step": after,
    })


def keras2_hard_sigmoid(x):
    return torch.clamp(0.2 * x + 0.5, 0, 1)


ACTIVATIONS = {
    "linear": lambda x: x, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
    "hard_sigmoid": keras2_hard_sigmoid, "softmax": lambda x: torch.softmax(x, dim=-1),
    "elu": nn.functional.elu, "leaky_relu": lambda x: nn.functional.leaky_relu(x, 0.01),
    "gelu": lambda x: nn.functional.gelu(x, approximate="tanh"), "softplus": nn.functional.softplus,
    "swish": nn.functional.silu,
}


def dense_activations_fixture(generator):
    """nn.Linear(6, 4) followed by each activation; loss = sum(output * upstream)."""
    cases = {}
    for name, f in ACTIVATIONS.items():
        linear = nn.Linear(6, 4)
        randomize(linear, generator)
        x = torch.randn(5, 6, generator=generator, requires_grad=True)
        y = f(linear(x))
        upstream = torch.randn(y.shape, generator=generator)
        (y * upstream).sum().backward()
        cases[name] = {
            "kernel": entry(linear.weight.T), "bias": entry(linear.bias), "input": entry(x),
            "output": entry(y), "upstream": entry(upstream), "input_gradient": entry(x.grad),
            "kernel_gradient": entry(linear.weight.grad.T), "bias_gradient": entry(linear.bias.grad),
        }
    dropout = nn.Dropout(0.5).eval()
    x = torch.randn(3, 4, generator=generator)
    write("dense_activations.json", {
        "about": "nn.Linear(6, 4) then each activation (gelu: approximate='tanh'; leaky_relu slope 0.01; "
                 "hard_sigmoid: Keras 2's clip(0.2x + 0.5, 0, 1)); nn.Dropout(0.5) in eval mode",
        "cases": cases, "dropout_eval": {"input": entry(x), "output": entry(dropout(x))},
    })


def losses_fixture(generator):
    logits = (torch.randn(4, 5, generator=generator) * 2).requires_grad_(True)
    labels = torch.tensor([0, 4, 2, 2])
    soft = torch.softmax(torch.randn(4, 5, generator=generator), dim=-1)
    multi = (torch.rand(4, 5, generator=generator) > 0.5).float()
    predictions = torch.rand(4, 5, generator=generator) * 0.9 + 0.05
    targets = torch.randn(4, 5, generator=generator)
    cases = {}

    def case(name, function, inputs, input_name, target, target_name):
        inputs = inputs.detach().clone().requires_grad_(True)
        loss = function(inputs)
        loss.backward()
        cases[name] = {input_name: entry(inputs), target_name: target, "loss": float(loss.detach()),
                       "gradient": entry(inputs.grad)}

    case("cross_entropy_classes", lambda z: nn.functional.cross_entropy(z, labels), logits, "logits",
         labels.tolist(), "labels")
    case("cross_entropy_soft", lambda z: nn.functional.cross_entropy(z, soft), logits, "logits", entry(soft), "targets")
    case("binary_cross_entropy_logits", lambda z: nn.functional.binary_cross_entropy_with_logits(z, multi), logits,
         "logits", entry(multi), "targets")
    case("binary_cross_entropy", lambda p: nn.functional.binary_cross_entropy(p, multi), predictions,
         "predictions", entry(multi), "targets")
    case("mean_squared_error", lambda p: nn.functional.mse_loss(p, targets), predictions, "predictions",
         entry(targets), "targets")
    write("losses.json", {"about": "torch.nn.functional losses, reduction='mean'", "cases": cases})


def loss_settings_fixture(generator):
    """Losses with settings, each case naming its loss as a spec: cross-entropy with label smoothing
    (PyTorch's, on labels and on probabilities), binary cross-entropy with Keras' label smoothing
    (t (1 - e) + e / 2, which PyTorch lacks: given smoothed targets), Huber and L1, reduction='mean'."""
    logits = (torch.randn(4, 5, generator=generator) * 2).requires_grad_(True)
    labels = torch.tensor([0, 4, 2, 2])
    soft = torch.softmax(torch.randn(4, 5, generator=generator), dim=-1)
    multi = (torch.rand(4, 5, generator=generator) > 0.5).float()
    predictions = torch.rand(4, 5, generator=generator) * 0.9 + 0.05
    targets = torch.randn(4, 5, generator=generator)
    # Differences on both sides of each delta (|p - t| from 0.05 to 3).
    wide = predictions * 4 - 2
    cases = {}

    def case(name, spec, function, inputs, input_name, target, target_name):
        inputs = inputs.detach().clone().requires_grad_(True)
        loss = function(inputs)
        loss.backward()
        cases[name] = {"spec": spec, input_name: entry(inputs), target_name: target, "loss": float(loss.detach()),
                       "gradient": entry(inputs.grad)}

    f = nn.functional
    case("cross_entropy_smoothing_classes", "categorical_crossentropy(label_smoothing=0.1)",
         lambda z: f.cross_entropy(z, labels, label_smoothing=0.1), logits, "logits", labels.tolist(), "labels")
    case("cross_entropy_smoothing_soft", "categorical_crossentropy(label_smoothing=0.25)",
         lambda z: f.cross_entropy(z, soft, label_smoothing=0.25), logits, "logits", entry(soft), "targets")
    case("binary_cross_entropy_smoothing_logits", "binary_crossentropy(label_smoothing=0.2)",
         lambda z: f.binary_cross_entropy_with_logits(z, multi * 0.8 + 0.1), logits, "logits", entry(multi), "targets")
    case("binary_cross_entropy_smoothing", "binary_crossentropy(label_smoothing=0.2)",
         lambda p: f.binary_cross_entropy(p, multi * 0.8 + 0.1), predictions, "predictions", entry(multi), "targets")
    case("huber", "huber", lambda p: f.huber_loss(p, targets), wide, "predictions", entry(targets), "targets")
    case("huber_delta", "huber(delta=0.5)", lambda p: f.huber_loss(p, targets, delta=0.5), wide, "predictions",
         entry(targets), "targets")
    case("mean_absolute_error", "mae", lambda p: f.l1_loss(p, targets), wide, "predictions", entry(targets), "targets")
    write("loss_settings.json", {"about": loss_settings_fixture.__doc__, "cases": cases})


def optimizers_fixture(generator):
    """Five steps of each torch.optim optimizer on one parameter from fixed gradients."""
    settings = {
        "sgd_momentum_weight_decay": (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
        "adam": (torch.optim.Adam, {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}),
        "adam_weight_decay": (torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.1}),
        "adamw": (torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.1}),
        "rmsprop": (torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 1e-7}),
        "rmsprop_momentum": (torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.99, "momentum": 0.5}),
        "adagrad": (torch.optim.Adagrad, {"lr": 0.1, "initial_accumulator_value": 0.1}),
        "adamax": (torch.optim.Adamax, {"lr": 0.02, "weight_decay": 0.01}),
        "nadam": (torch.optim.NAdam, {"lr": 0.01, "weight_decay": 0.01}),
        "nadam_momentum_decay": (torch.optim.NAdam, {"lr": 0.01, "momentum_decay": 0.05}),
    }
    start = torch.randn(6, generator=generator)
    gradients = [torch.randn(6, generator=generator) for _ in range(5)]
    cases = {}
    for name, (kind, options) in settings.items():
        p = start.clone().requires_grad_(True)
        optimizer = kind([p], **options)
        after = []
        for g in gradients:
            p.grad = g.clone()
            optimizer.step()
            after.append(flat(p))
        cases[name] = {"settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()},
                       "after_each_step": after}
    write("optimizers.json", {"about": "torch.optim, five steps from fixed gradients", "start": flat(start),
                              "gradients": [flat(g) for g in gradients], "cases": cases})


def write_safetensors(name, tensors, metadata):
    """The safetensors format, written by hand so that the script needs only torch."""
    header, offset, blobs = {}, 0, []
    for key in sorted(tensors):
        data = tensors[key].detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(tensors[key].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class Classifier(nn.Module):
    """The PyTorch model NeuralNetworks maps to Bidirectional(LSTM) -> Dense(softmax)."""

    def __init__(self, features, units, classes):
        super().__init__()
        self.lstm = nn.LSTM(features, units, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * units, classes)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return torch.softmax(self.fc(torch.cat((h_n[0], h_n[1]), dim=1)), dim=1)


def torch_model_fixture(generator):
    model = Classifier(F, U, 3)
    randomize(model, generator)
    x = torch.rand(4, T, F, generator=generator)
    with torch.no_grad():
        p = model(x)
    write_safetensors("torch_classifier.safetensors", model.state_dict(), {"format": "pt"})
    write("torch_classifier.json", {
        "about": "state_dict of Classifier(3, 4, 3) in torch_classifier.safetensors; softmax outputs",
        "input": entry(x), "probabilities": entry(p),
    })


def write_png(name, width, height, color_type, rows):
    """A PNG written with the standard library only (8 bits per sample, filter 0 on each row)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(png)


def ours_to_torch_fixture(generator):
    """A model in NeuralNetworks' own file format and layout, the same weights mapped to PyTorch's
    state_dict by this script (independently of the Swift export), and PyTorch's predictions."""
    classes = 3
    ours, state = {}, {}
    for direction, suffix in (("forward", ""), ("backward", "_reverse")):
        kernel = torch.randn(F, 4 * U, generator=generator) * 0.5
        recurrent = torch.randn(U, 4 * U, generator=generator) * 0.5
        bias = torch.randn(4 * U, generator=generator) * 0.5
        ours[f"bidirectional.{direction}.kernel"] = kernel
        ours[f"bidirectional.{direction}.recurrent_kernel"] = recurrent
        ours[f"bidirectional.{direction}.bias"] = bias
        state[f"lstm.weight_ih_l0{suffix}"] = kernel.T
        state[f"lstm.weight_hh_l0{suffix}"] = recurrent.T
        state[f"lstm.bias_ih_l0{suffix}"] = bias
        state[f"lstm.bias_hh_l0{suffix}"] = torch.zeros(4 * U)
    dense = torch.randn(2 * U, classes, generator=generator) * 0.5
    dense_bias = torch.randn(classes, generator=generator) * 0.5
    ours["dense.kernel"], ours["dense.bias"] = dense, dense_bias
    state["fc.weight"], state["fc.bias"] = dense.T, dense_bias
    lstm = {"type": "LSTM", "units": U, "activation": "tanh", "recurrent_activation": "sigmoid",
            "return_sequences": False, "go_backwards": False, "unit_forget_bias": True}
    architecture = {"input_shape": [T, F], "layers": [
        {"type": "Bidirectional", "units": U, "layer": [lstm]},
        {"type": "Dense", "units": classes, "activation": "softmax", "use_bias": True}]}
    write_safetensors("ours_model.safetensors", ours,
                      {"format": "neuralnetworks", "architecture": json.dumps(architecture, sort_keys=True)})
    write_safetensors("ours_model_as_torch.safetensors", state, {"format": "pt"})
    model = Classifier(F, U, classes)
    model.load_state_dict(state)
    x = torch.rand(4, T, F, generator=generator)
    with torch.no_grad():
        p = model(x)
    write("ours_model.json", {
        "about": "ours_model.safetensors run by PyTorch after mapping it to ours_model_as_torch.safetensors",
        "input": entry(x), "probabilities": entry(p),
    })


def png_fixtures():
    # 4 x 3 greyscale ramp, and a 2 x 1 RGBA image: opaque pure red, half-transparent white.
    write_png("grey_4x3.png", 4, 3, 0, [[0, 85, 170, 255], [10, 20, 30, 40], [255, 255, 0, 0]])
    write_png("rgba_2x1.png", 2, 1, 6, [[255, 0, 0, 255, 255, 255, 255, 128]])


def read_safetensors_metadata(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(size)).get("__metadata__", {})


def torch_sequential_fixtures():
    """For each NAME.py that `nn export` wrote (scripts/make_torch_sequential_fixtures.sh): the model
    built in PyTorch from that Python, random weights, its state_dict as NAME.safetensors (keeping
    the architecture metadata nn wrote) and NAME.json with an input and PyTorch's eval() output.
    Each model draws from a generator seeded with its name, so adding one leaves the others as they are."""
    import importlib.util
    folder = os.path.join(OUT, "torch_sequential")
    for file in sorted(os.listdir(folder)):
        if not file.endswith(".py"):
            continue
        name = file[:-3]
        spec = importlib.util.spec_from_file_location(name, os.path.join(folder, file))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.make_model()
        generator = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        metadata = read_safetensors_metadata(os.path.join(folder, name + ".safetensors"))
        model.load_state_dict(load_safetensors(os.path.join(folder, name + ".safetensors")))
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.5)
        model.eval()
        shape = json.loads(metadata["nn_architecture"])["input_shape"]
        x = torch.randn([3] + shape, generator=generator)
        with torch.no_grad():
            y = model(x)
        y = torch.where(y.abs() < 1e-30, torch.zeros_like(y), y)  # no float32 denormals in JSON
        write_safetensors(os.path.join("torch_sequential", name + ".safetensors"), model.state_dict(), metadata)
        write(os.path.join("torch_sequential", name + ".json"),
              {"about": f"torch_sequential/{name}.py in PyTorch, weights in {name}.safetensors; eval() output",
               "input": entry(x), "output": entry(y)})


def load_safetensors(path):
    """The F32 tensors of a safetensors file (what nn export writes), read by hand."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        start, end = info["data_offsets"]
        values = struct.unpack("<%df" % ((end - start) // 4), data[start:end])
        tensors[key] = torch.tensor(values, dtype=torch.float32).reshape(info["shape"])
    return tensors


def main():
    # `make_fixtures.py gru`: that one fixture only (each fixture below has its own generator).
    only = {"gru": lambda: gru_fixture(torch.Generator().manual_seed(31)),
            "ctc": lambda: ctc_fixture(torch.Generator().manual_seed(37)),
            "packed": lambda: packed_fixture(torch.Generator().manual_seed(41)),
            "conv": lambda: conv_fixture(torch.Generator().manual_seed(43)),
            "embedding": lambda: embedding_fixture(torch.Generator().manual_seed(47)),
            "layer_norm": lambda: layer_norm_fixture(torch.Generator().manual_seed(53)),
            "pooling1d": lambda: pooling1d_fixture(torch.Generator().manual_seed(59)),
            "attention": lambda: attention_fixture(torch.Generator().manual_seed(61)),
            "window_pooling1d": lambda: window_pooling1d_fixture(torch.Generator().manual_seed(67)),
            "torch_sequential": torch_sequential_fixtures,
            "loss_settings": lambda: loss_settings_fixture(torch.Generator().manual_seed(17)),
            "conv_transpose": lambda: conv_transpose_fixture(torch.Generator().manual_seed(23)),
            "upsampling": lambda: upsampling_fixture(torch.Generator().manual_seed(29))}
    if len(sys.argv) > 1:
        for name in sys.argv[1:]:
            only[name]()
        return
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1234)
    lstm_fixture(generator)
    bilstm_fixture(generator)
    dense_fixture(generator)
    sgd_fixture(generator)
    torch_model_fixture(generator)
    png_fixtures()
    ours_to_torch_fixture(generator)
    # Fixtures added with the module contract draw from their own generator, so that the ones
    # above keep their values.
    feedforward = torch.Generator().manual_seed(99)
    dense_activations_fixture(feedforward)
    losses_fixture(feedforward)
    optimizers_fixture(feedforward)
    torch_sequential_fixtures()
    only["gru"]()
    only["ctc"]()
    only["packed"]()
    only["conv"]()
    only["embedding"]()
    only["layer_norm"]()
    only["pooling1d"]()
    only["attention"]()
    only["window_pooling1d"]()
    only["loss_settings"]()
    only["conv_transpose"]()
    only["upsampling"]()
    print("fixtures written to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
