"""Teaching loops vs vectorised NumPy vs PyTorch CPU, forward + backward.

    python -m bench.conv_bench [--threads N] [--repeats R] [--quick]

Every row times one layer's forward pass followed by its backward pass on
the same data, for each implementation, and reports the median of R runs.
The implementations are timed round-robin inside one loop (teaching, fast,
torch, teaching, fast, torch, ...), so a slow patch of the machine hits them
all alike and the ratios are side by side, not from separate runs.

NumPy's BLAS and PyTorch get the same thread count (threadpoolctl and
torch.set_num_threads), one by default: on a small shared machine a single
thread per library gives the steadiest ratios (spinning BLAS threads make
multi-threaded timings swing wildly when other jobs run); --threads 2 uses
both cores of the course machine. PyTorch runs in its native NCHW layout;
the NumPy layers in NHWC, as the graded API requires.

The teaching loops are linear in the batch size m, so beyond the grading
case they are timed on the first m_sub examples and scaled by m / m_sub; the
table marks such rows with "x(m/m_sub)". (They allocate their outputs in
float64 whatever the input, so their float32 rows time much the same work.)
"""
import os
import sys

# Some machines here set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for old OpenBLAS
# builds; they slow the current one. Drop both for this process only, before
# NumPy loads, by re-executing ourselves without them.
_SLOW_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and any(v in os.environ for v in _SLOW_BLAS_VARS):
    env = {k: v for k, v in os.environ.items() if k not in _SLOW_BLAS_VARS}
    env["CONV_BENCH_UNSET"] = ",".join(f"{v}={os.environ[v]}" for v in _SLOW_BLAS_VARS if v in os.environ)
    os.execve(sys.executable, [sys.executable, "-m", "bench.conv_bench", *sys.argv[1:]], env)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

import solutions as S  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the table then has no PyTorch column
    torch = None

# name, (m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad), teaching subset m_sub
CONV_CASES = [
    ("conv grading", (2, 5, 7, 3, 4, 3, 2, 1), 2),
    ("conv medium", (16, 28, 28, 8, 16, 3, 1, 1), 4),
    ("conv large", (64, 32, 32, 16, 32, 3, 1, 1), 4),
]
# name, (m, n_H_prev, n_W_prev, n_C, f, stride), mode, m_sub
POOL_CASES = [
    ("pool max", (64, 32, 32, 32, 2, 2), "max", 4),
    ("pool average", (64, 32, 32, 32, 2, 2), "average", 4),
]


def conv_runners(case, dtype, m_sub):
    m, n_H, n_W, c_in, c_out, f, s, p = case
    rng = np.random.default_rng(0)
    A = rng.standard_normal((m, n_H, n_W, c_in)).astype(dtype)
    W = rng.standard_normal((f, f, c_in, c_out)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, c_out)).astype(dtype)
    hp = {"stride": s, "pad": p}
    dZ = rng.standard_normal(S.conv_forward_fast(A, W, b, hp)[0].shape).astype(dtype)

    def numpy_run(forward, backward, A, dZ):
        def run():
            _, cache = forward(A, W, b, hp)
            return backward(dZ, cache)[0]
        return run

    runners = {
        "teaching": numpy_run(S.conv_forward, S.conv_backward, A[:m_sub], dZ[:m_sub]),
        "fast": numpy_run(S.conv_forward_fast, S.conv_backward_fast, A, dZ),
    }
    if torch is not None:
        x = torch.from_numpy(A).permute(0, 3, 1, 2).contiguous().requires_grad_()
        w = torch.from_numpy(W).permute(3, 2, 0, 1).contiguous().requires_grad_()
        bias = torch.from_numpy(b.reshape(-1).copy()).requires_grad_()
        g = torch.from_numpy(dZ).permute(0, 3, 1, 2).contiguous()

        def torch_run():
            x.grad = w.grad = bias.grad = None
            F.conv2d(x, w, bias, stride=s, padding=p).backward(g)
            return x.grad

        runners["torch"] = torch_run
    return runners


def pool_runners(case, mode, dtype, m_sub):
    m, n_H, n_W, n_C, f, s = case
    rng = np.random.default_rng(0)
    A = rng.standard_normal((m, n_H, n_W, n_C)).astype(dtype)
    hp = {"f": f, "stride": s}
    dA = rng.standard_normal(S.pool_forward_fast(A, hp, mode)[0].shape).astype(dtype)

    def numpy_run(forward, backward, A, dA):
        def run():
            _, cache = forward(A, hp, mode)
            return backward(dA, cache, mode)
        return run

    runners = {
        "teaching": numpy_run(S.pool_forward, S.pool_backward, A[:m_sub], dA[:m_sub]),
        "fast": numpy_run(S.pool_forward_fast, S.pool_backward_fast, A, dA),
    }
    if torch is not None:
        x = torch.from_numpy(A).permute(0, 3, 1, 2).contiguous().requires_grad_()
        g = torch.from_numpy(dA).permute(0, 3, 1, 2).contiguous()
        pool = F.max_pool2d if mode == "max" else F.avg_pool2d

        def torch_run():
            x.grad = None
            pool(x, kernel_size=f, stride=s).backward(g)
            return x.grad

        runners["torch"] = torch_run
    return runners


def measure(runners, repeats, teaching_repeats):
    """Median seconds per run for each runner, timed round-robin.

    Each runner returns the gradient for the layer's input (NHWC NumPy, or
    NCHW torch); also returns the largest relative error of teaching and torch
    against fast, so the table shows that all three computed the same thing.
    """
    times = {name: [] for name in runners}
    outputs = {}
    for name, run in runners.items():  # warm-up: caches, allocator, lazy imports
        if name != "teaching":  # the loops run long enough to need none
            run()
    for r in range(repeats):
        for name, run in runners.items():
            if name == "teaching" and r >= teaching_repeats:
                continue
            t0 = time.perf_counter()
            outputs[name] = run()
            times[name].append(time.perf_counter() - t0)
    fast = outputs["fast"]
    errors = [S.relative_error(outputs["teaching"], fast[: len(outputs["teaching"])])]
    if "torch" in outputs:
        errors.append(S.relative_error(outputs["torch"].permute(0, 2, 3, 1).numpy(), fast))
    return {name: statistics.median(ts) for name, ts in times.items()}, max(errors)


def fmt_ms(seconds):
    ms = seconds * 1e3
    return f"{ms:10.3f}" if ms < 10 else f"{ms:10.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for NumPy's BLAS and for PyTorch (default: 1)")
    parser.add_argument("--repeats", type=int, default=15, help="runs per median for fast and torch")
    parser.add_argument("--teaching-repeats", type=int, default=3, help="runs per median for the loops")
    parser.add_argument("--quick", action="store_true", help="grading and medium conv only, few repeats")
    args = parser.parse_args(argv)

    threads = args.threads
    repeats = 3 if args.quick else args.repeats
    teaching_repeats = min(args.teaching_repeats, repeats)
    limits = threadpool_limits(limits=threads, user_api="blas")
    if torch is not None:
        torch.set_num_threads(threads)

    print("Backprop Through CNNs: forward + backward, median wall time per call (ms)")
    print(f"threads: {threads} for NumPy's BLAS and for PyTorch; repeats: {repeats} "
          f"(teaching loops: {teaching_repeats})")
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            print(f"NumPy {np.__version__} BLAS: {info['internal_api']} {info['version']}, "
                  f"kernel {info.get('architecture')}, {info['num_threads']} threads")
    unset = os.environ.get("CONV_BENCH_UNSET")
    print(f"unset for this run: {unset}" if unset else "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: not set")
    print(f"PyTorch: {torch.__version__}, {torch.get_num_threads()} threads, NCHW" if torch is not None
          else "PyTorch: not installed (no torch column)")
    print()

    conv_cases = CONV_CASES[:2] if args.quick else CONV_CASES
    pool_cases = [] if args.quick else POOL_CASES

    header = (f"{'case':<14}{'dtype':<9}{'teaching':>10}{'':<9}{'fast':>10}{'torch':>10}"
              f"{'fast/torch':>12}{'loops/fast':>12}{'max err':>11}")
    print(header)
    print("-" * len(header))
    rows = [(name, conv_runners, (case,), m_sub, case[0]) for name, case, m_sub in conv_cases]
    rows += [(name, pool_runners, (case, mode), m_sub, case[0]) for name, case, mode, m_sub in pool_cases]
    for name, make, params, m_sub, m in rows:
        for dtype in (np.float64, np.float32):
            t, error = measure(make(*params, dtype, m_sub), repeats, teaching_repeats)
            teaching = t["teaching"] * m / m_sub
            scaled = f" x({m}/{m_sub})" if m_sub != m else ""
            torch_ms = fmt_ms(t["torch"]) if "torch" in t else f"{'-':>10}"
            ratio = f"{t['fast'] / t['torch']:12.2f}" if "torch" in t else f"{'-':>12}"
            print(f"{name:<14}{np.dtype(dtype).name:<9}{fmt_ms(teaching)}{scaled:<9}{fmt_ms(t['fast'])}"
                  f"{torch_ms}{ratio}{teaching / t['fast']:12.0f}{error:11.0e}")
    print()
    print("fast/torch < 1: the vectorised NumPy layer is faster than PyTorch CPU.")
    print("loops/fast: how many times faster the vectorised layer is than the teaching loops.")
    print("max err: largest relative error of dA_prev (teaching, torch) against fast, from the timed runs.")
    limits.restore_original_limits()


if __name__ == "__main__":
    main()
