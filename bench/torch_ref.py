"""The `ref` preset's model and training step in PyTorch, for `task bench-train`.

The same decoder as trainer/model.go: learned token and position
embeddings; per layer a pre-RMSNorm causal self-attention (q, k, v, o
projections with bias) and a pre-RMSNorm feed-forward (up, sigmoid-GELU,
down, with bias); a final RMSNorm and a vocabulary projection without bias;
mean next-token NLL; Adam at 1e-3. Random tokens, as chimed's bench uses.

Usage: python3 bench/torch_ref.py [STEPS]   (Debian's python3-torch)
Prints which BLAS library PyTorch ran its matrix products on and its thread
counts, a line with tokens/s, s/step and peak RSS, then `tokens_per_sec=N`
for `task bench-train` to pass to `chimed train --bench` (which prints
chimed's ratio to it). Debian's torch calls whatever libblas.so.3 the
alternatives system picks; the reference (netlib) BLAS is 20x slower than
OpenBLAS, so on it, or on a BLAS it cannot name, no tokens_per_sec line is
printed and no ratio can be made from the run.
"""
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, CONTEXT, DIM, LAYERS, HEADS, FF, BATCH = 6000, 128, 256, 4, 4, 1024, 16


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.scale


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn_norm, self.ff_norm = RMSNorm(DIM), RMSNorm(DIM)
        self.q, self.k, self.v, self.o = (nn.Linear(DIM, DIM) for _ in range(4))
        self.up, self.down = nn.Linear(DIM, FF), nn.Linear(FF, DIM)

    def forward(self, x, mask):
        b, t, _ = x.shape
        h = self.attn_norm(x)
        split = lambda y: y.view(b, t, HEADS, DIM // HEADS).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        scores = q @ k.transpose(-1, -2) / math.sqrt(DIM // HEADS) + mask
        out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, DIM)
        x = x + self.o(out)
        h = self.up(self.ff_norm(x))
        return x + self.down(h * torch.sigmoid(1.702 * h))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Parameter(torch.randn(VOCAB, DIM) * 0.02)
        self.pos = nn.Parameter(torch.randn(CONTEXT, DIM) * 0.02)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.final_norm = RMSNorm(DIM)
        self.out = nn.Linear(DIM, VOCAB, bias=False)
        mask = torch.triu(torch.full((CONTEXT, CONTEXT), -1e9), diagonal=1)
        self.register_buffer("mask", mask.view(1, 1, CONTEXT, CONTEXT))

    def forward(self, tokens):
        x = self.embed[tokens] + self.pos[: tokens.shape[1]]
        for layer in self.layers:
            x = layer(x, self.mask)
        return self.out(self.final_norm(x))


# Shared objects that are a BLAS, by the file name's start, and whether a
# ratio against them means anything. Debian installs the reference BLAS at
# .../blas/libblas.so.3 and OpenBLAS at .../openblas-pthread/libblas.so.3
# (or openblas-openmp/, openblas-serial/), so the folder names it too.
BLAS_KINDS = [
    ("openblas", "OpenBLAS", True),
    ("mkl", "Intel MKL", True),
    ("blis", "BLIS", True),
    ("atlas", "ATLAS", True),
    ("blas", "reference BLAS (netlib)", False),
]


def blas_in_use():
    """Names the BLAS loaded into this process, read from /proc/self/maps
    after a matrix product (torch loads it lazily), and whether it is an
    optimised one. Returns (name, path, optimised)."""
    torch.randn(64, 64) @ torch.randn(64, 64)
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        return "unknown (no /proc/self/maps)", "", False
    found = []
    for path in sorted(paths):
        parts = path.lower().split("/")
        name = parts[-1]
        if not (name.startswith("lib") and ".so" in name):
            continue
        where = "/".join(parts[-2:])
        for key, label, optimised in BLAS_KINDS:
            if key in where and ("blas" in where or key == "mkl"):
                found.append((label, path, optimised))
                break
    if not found:
        return "unknown (no BLAS library mapped)", "", False
    # An optimised BLAS loaded beside the reference one is the one in use.
    found.sort(key=lambda f: not f[2])
    return found[0]


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    blas, path, optimised = blas_in_use()
    print(f"PyTorch BLAS: {blas} ({path or 'no file'}); "
          f"intra-op threads {torch.get_num_threads()}, inter-op threads {torch.get_num_interop_threads()}")
    for line in torch.__config__.parallel_info().splitlines():
        if line.startswith(("ATen parallel backend", "OMP_NUM_THREADS", "MKL_NUM_THREADS")):
            print("  " + line.strip())
    torch.manual_seed(1)
    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.randint(8, VOCAB, (BATCH * 4, CONTEXT + 1))

    def step(i):
        batch = data[(i % 4) * BATCH:(i % 4 + 1) * BATCH]
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()

    step(0)  # warm-up, as chimed's bench leaves its compile step out
    start = time.perf_counter()
    for i in range(1, steps + 1):
        step(i)
    el = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, ref preset: "
          f"{steps} steps, {el / steps:.2f}s/step, {steps * BATCH * CONTEXT / el:.0f} tokens/s, peak RSS {rss:.0f} MiB")
    if optimised:
        print(f"tokens_per_sec={steps * BATCH * CONTEXT / el:.0f}")
    else:
        print(f"no ratio: PyTorch ran on {blas}, not an optimised BLAS; "
              "apt-get install libopenblas0-pthread (or select it with update-alternatives "
              "--config libblas.so.3-$(gcc -dumpmachine)) and run again", file=sys.stderr)


if __name__ == "__main__":
    main()
