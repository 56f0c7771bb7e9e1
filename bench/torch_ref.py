"""The `ref` preset's model and training step in PyTorch, for `task bench-train`.

The same decoder as trainer/model.go: learned token and position
embeddings; per layer a pre-RMSNorm causal self-attention (q, k, v, o
projections with bias) and a pre-RMSNorm feed-forward (up, sigmoid-GELU,
down, with bias); a final RMSNorm and a vocabulary projection without bias;
mean next-token NLL; Adam at 1e-3. Random tokens, as chimed's bench uses.

Usage: python3 bench/torch_ref.py [STEPS]   (Debian's python3-torch)
       python3 bench/torch_ref.py --blas    (only the BLAS line, and optimised=True|False)
Prints which BLAS library PyTorch ran its matrix products on and its thread
counts, a line with tokens/s, s/step and peak RSS, then `tokens_per_sec=N`
for `task bench-train` to pass to `chimed train --bench` (which prints
chimed's ratio to it). Debian's torch calls whatever libblas.so.3 the
alternatives system picks; the reference (netlib) BLAS is 20x slower than
OpenBLAS, so on it, or on a BLAS it cannot name, no tokens_per_sec line is
printed and no ratio can be made from the run.
"""
import ctypes
import math
import os
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


# BLAS libraries by a word in the last two elements of the real path of
# the file that holds sgemm_, and whether a ratio against them means
# anything. Debian installs the reference BLAS at .../blas/libblas.so.3 and
# OpenBLAS at .../openblas-pthread/libblas.so.3 (or openblas-openmp/,
# openblas-serial/), so the folder names it.
BLAS_KINDS = [
    ("openblas", "OpenBLAS", True),
    ("mkl", "Intel MKL", True),
    ("blis", "BLIS", True),
    ("atlas", "ATLAS", True),
    ("blas", "reference BLAS (netlib)", False),
]


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def sgemm_file():
    """The real path of the shared object whose sgemm_ torch's matrix
    products call: the symbol looked up from libtorch_cpu (so in its own
    dependency order, as the dynamic linker binds it) and its file found by
    dladdr. Which BLAS files are mapped says less: OpenBLAS's LAPACK maps
    libopenblas beside a reference libblas that still does every product.
    Returns "" when it cannot tell."""
    torch.randn(64, 64) @ torch.randn(64, 64)  # torch binds its BLAS lazily
    try:
        with open("/proc/self/maps") as f:
            torch_cpu = sorted({line.split()[-1] for line in f if "/libtorch_cpu" in line})
        sgemm = ctypes.cast(ctypes.CDLL(torch_cpu[0]).sgemm_, ctypes.c_void_p)
        info = _DlInfo()
        if not ctypes.CDLL(None).dladdr(sgemm, ctypes.byref(info)) or not info.dli_fname:
            return ""
        return os.path.realpath(info.dli_fname.decode())
    except (OSError, IndexError, AttributeError):
        return ""


def blas_in_use():
    """Names the BLAS torch's float32 matrix products run on and says
    whether it is an optimised one. Returns (name, path, optimised)."""
    path = sgemm_file()
    if not path:
        return "unknown (no sgemm_ found from libtorch_cpu)", "", False
    where = "/".join(path.lower().split("/")[-2:])
    if "libtorch" in where:  # a BLAS linked into torch itself
        for line in torch.__config__.show().splitlines():
            for field in line.replace(",", " ").split():
                if field.startswith("BLAS_INFO="):
                    where = field.lower()
    for key, label, optimised in BLAS_KINDS:
        if key in where:
            return label, path, optimised
    return f"unknown ({where})", path, False


def main():
    blas, path, optimised = blas_in_use()
    print(f"PyTorch BLAS: {blas} ({path or 'no file'}); "
          f"intra-op threads {torch.get_num_threads()}, inter-op threads {torch.get_num_interop_threads()}")
    if sys.argv[1:] == ["--blas"]:
        print(f"optimised={optimised}")
        return
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
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
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(1, steps + 1):
        step(i)
    el, cpu = time.perf_counter() - start, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, ref preset: "
          f"{steps} steps, {el / steps:.2f}s/step, {steps * BATCH * CONTEXT / el:.0f} tokens/s, "
          f"{cpu / steps:.2f} CPU-s/step, peak RSS {rss:.0f} MiB")
    if optimised:
        print(f"tokens_per_sec={steps * BATCH * CONTEXT / el:.0f}")
    else:
        print(f"no ratio: PyTorch ran on {blas}, not an optimised BLAS; "
              "apt-get install libopenblas0-pthread (or select it with update-alternatives "
              "--config libblas.so.3-$(gcc -dumpmachine)) and run again", file=sys.stderr)


if __name__ == "__main__":
    main()
