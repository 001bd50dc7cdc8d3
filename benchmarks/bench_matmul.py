"""Products with few output columns on PyTorch's CPU GEMM: ``x @ w`` as PyTorch
computes it vs purekeras's ``ops.matmul`` (which computes ``(w.T @ x.T).T`` for 2-15
output columns), forward alone and forward + backward (``torch.autograd.grad``).

PyTorch's CPU GEMM (MKL) runs 2-5x slower when the product has 2-15 columns, the
shape of every classifier head (``Dense(10)``); the transposed product has the
same sums. The table shows it per shape, one torch thread, medians of
interleaved windows; shapes with 1 or >= 16 columns are controls (purekeras
leaves them to ``torch.matmul``).

Run: ``.venv/bin/python benchmarks/bench_matmul.py [--quick]``.
"""
from __future__ import annotations

import _harness as h

SHAPES = [  # (rows, inner, columns)
    (128, 256, 10), (1024, 2048, 10), (128, 64, 4), (256, 64, 4), (512, 512, 15),
    (128, 256, 1), (128, 256, 16), (128, 256, 64),
]


def _runners(rows: int, inner: int, cols: int, backward: bool) -> list[h.StepRunner]:
    import torch

    from purekeras import ops

    x = torch.randn(rows, inner, requires_grad=backward)
    w = torch.randn(inner, cols, requires_grad=backward)
    seed = torch.randn(rows, cols)

    def timed(product):
        if not backward:
            return lambda state, _: (state, product(x, w))
        return lambda state, _: (state, torch.autograd.grad(product(x, w), (x, w), seed))

    return [h.StepRunner("torch", timed(torch.matmul), None, [None]),
            h.StepRunner("purekeras", timed(ops.matmul), None, [None])]


def main() -> None:
    args = h.parse_args(__doc__.splitlines()[0])
    import torch

    torch.set_num_threads(1)
    h.header("x @ w on PyTorch's CPU GEMM: torch.matmul vs purekeras ops.matmul (1 thread, µs, median)")
    rows = []
    for rows_, inner, cols in SHAPES:
        cells = [f"{rows_}x{inner} @ {inner}x{cols}"]
        for backward in (False, True):
            runners = _runners(rows_, inner, cols, backward)
            for r in runners:
                r.first_call()
            times = h.interleaved(runners, windows=5 if args.quick else 11, target_s=0.05)
            med = {k: h.median(v) for k, v in times.items()}
            cells += [f"{med['torch'] * 1e6:.1f}", f"{med['purekeras'] * 1e6:.1f}",
                      f"**{h.paired_ratio(times['purekeras'], times['torch']):.2f}**"]
        rows.append(cells)
    print(h.markdown_table(["x @ w", "torch fwd µs", "pk fwd µs", "pk / torch fwd",
                            "torch fwd+bwd µs", "pk fwd+bwd µs", "pk / torch fwd+bwd"], rows))


if __name__ == "__main__":
    main()
