#!/usr/bin/env python3
"""The PyTorch peer on a GPU: the same layer as Fuse4J's fused op, FP32 with TF32 off, timed with CUDA events.

For each shape (n x in -> out) it reports the median milliseconds of: F.linear alone; eager
Linear -> ReLU -> Dropout(p) in training; the eager forward + backward of that; and the activation memory the
eager training step keeps (bytes allocated after forward, before backward, minus the inputs and parameters).

    python3 bench/gpu/pytorch_peer.py 4096x4096x4096 8192x1024x1024 65536x256x256
"""
import statistics
import sys

import torch
import torch.nn.functional as F


def parse(shape):
    n, i, o = (int(v) for v in shape.replace("->", "x").split("x"))
    return n, i, o


def time_ms(fn, reps=20, warmup=5):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main(shapes, p=0.5):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    print(f"# torch {torch.__version__}, {torch.cuda.get_device_name(0)}, TF32 off, p = {p}")
    print(f"{'shape':>18} {'linear ms':>10} {'TFLOP/s':>8} {'eager fwd ms':>12} {'eager f+b ms':>12} {'kept MiB':>9}")
    for s in shapes:
        n, i, o = parse(s)
        x = torch.randn(n, i, device=dev)
        w = torch.randn(o, i, device=dev) / i ** 0.5
        b = torch.randn(o, device=dev) * 0.1
        flops = 2.0 * n * i * o
        with torch.no_grad():
            lin = time_ms(lambda: F.linear(x, w, b))
            fwd = time_ms(lambda: F.dropout(F.relu(F.linear(x, w, b)), p, training=True))
        wp = w.clone().requires_grad_(True)
        bp = b.clone().requires_grad_(True)
        xp = x.clone().requires_grad_(True)
        dy = torch.randn(n, o, device=dev)

        def step():
            y = F.dropout(F.relu(F.linear(xp, wp, bp)), p, training=True)
            y.backward(dy)

        fb = time_ms(step)
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        y = F.dropout(F.relu(F.linear(xp, wp, bp)), p, training=True)
        kept = torch.cuda.memory_allocated() - before
        del y
        print(f"{s:>18} {lin:10.3f} {flops / lin / 1e9:8.1f} {fwd:12.3f} {fb:12.3f} {kept / 2**20:9.1f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["4096x4096x4096", "8192x1024x1024", "65536x256x256"])
