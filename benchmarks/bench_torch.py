"""purekeras on PyTorch: the pure train step vs hand-written PyTorch, eager and
compiled; torch threads 1 vs 2; ``pk.Model.fit`` vs Keras 3 ``fit`` on PyTorch.

Tables (one run; medians over interleaved windows, as ``_harness`` does):

1. **Threads**: the purekeras step (the default ``pk.jit``) and the hand-written
   fused step on W1/W2 with ``torch.set_num_threads(1)`` vs ``2``, windows taking turns.
2. **Train step** on W1, W2, W3 at ``--threads`` (default 1, from table 1):
   - *pk traced*: ``pk.jit(train.make_train_step(...), backend="torch")``, the
     default: eager on the first call, traced into an ATen graph on the second
     (its time is the "trace" column), replayed after;
   - *pk eager*: the same with ``compile=False``: op by op;
   - *hand foreach* / *hand fused*: an ``nn.Module`` (channels-first for W2, as a
     PyTorch user writes it, with the same weights) with ``F.cross_entropy``,
     ``torch.optim.Adam(foreach=True)`` / ``(fused=True)`` and
     ``zero_grad(set_to_none=True)``;
   - *pk compiled*: ``pk.jit(..., compile=True)`` (``torch.compile(fullgraph=True)``);
   - *hand compiled*: ``torch.compile(module)`` with the fused Adam;
   - *pk JAX*: the same purekeras step on JAX (``jax.jit``), for picking a backend.
   Goal: pk / the faster hand-written variant <= 1.10, for the default step and
   the compiled one (op-by-op eager is the debugging mode; its ratio is shown too).
   Ratios are medians of per-window ratios (``_harness.paired_ratio``): each window
   against the baseline's window next to it, steadier than a ratio of medians
   when the machine's load drifts.
   Compile time is the first call (trace + compile + one step) with a fresh
   Inductor cache ("cold", a first run), and for purekeras again after
   ``torch._dynamo.reset()`` ("warm": Inductor's on-disk cache hit, as in a
   second run of the same script).
3. **fit** on W1: ``pk.Model(..., backend="torch").fit`` (eager, and
   ``compile(jit_compile=True)``) vs Keras 3 ``model.fit`` with
   ``KERAS_BACKEND=torch`` in a subprocess (same thread count), and ``pk.Model.fit``
   on JAX; steps/s from the median epoch of epochs 2..N, the candidates taking
   turns fit call by fit call (as ``bench_fit.py``). Goal: pk fit >= 3x Keras.

Run: ``.venv/bin/python benchmarks/bench_torch.py [--quick] [--threads N] [--skip-compiled]``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as h
import bench_fit
import workloads as wl

GOAL_STEP = 1.10
GOAL_FIT = 3.0
HERE = Path(__file__).resolve().parent


# -- the hand-written PyTorch model, with purekeras's initial weights ---------------------
def torch_module(workload: wl.Workload, pk_params):
    """``workload`` as a ``torch.nn.Sequential`` (channels-first), with the weights of
    ``pk_params`` (Keras layouts converted: Linear ``kernel.T``, Conv2d ``OIHW``; the
    Dense after a Flatten has its rows reordered from HWC to CHW)."""
    import torch
    from torch import nn

    kernels = [(p["kernel"], p["bias"]) for p in pk_params.values() if "kernel" in p]
    it = iter(kernels)
    layers, shape = [], workload.input_shape  # shape: channels-last, without batch
    flattened_from = None
    with torch.no_grad():
        for layer in workload.layers:
            kind = layer[0]
            if kind == "dense":
                kernel, bias = next(it)
                if flattened_from is not None:  # HWC row order -> CHW
                    hh, ww, cc = flattened_from
                    kernel = kernel.reshape(hh, ww, cc, -1).permute(2, 0, 1, 3).reshape(hh * ww * cc, -1)
                    flattened_from = None
                linear = nn.Linear(kernel.shape[0], kernel.shape[1])
                linear.weight.copy_(kernel.T)
                linear.bias.copy_(bias)
                layers.append(linear)
                if layer[2] == "relu":
                    layers.append(nn.ReLU())
                shape = (layer[1],)
            elif kind == "conv":
                kernel, bias = next(it)
                conv = nn.Conv2d(kernel.shape[2], kernel.shape[3], layer[2], padding="same")
                conv.weight.copy_(kernel.permute(3, 2, 0, 1))
                conv.bias.copy_(bias)
                layers += [conv, nn.ReLU()] if layer[3] == "relu" else [conv]
                shape = (*shape[:2], layer[1])
            elif kind == "maxpool":
                layers.append(nn.MaxPool2d(layer[1]))
                shape = (shape[0] // layer[1], shape[1] // layer[1], shape[2])
            else:
                layers.append(nn.Flatten())
                flattened_from = shape
    return nn.Sequential(*layers)


def torch_batches(workload: wl.Workload, num: int, *, channels_first: bool, long_labels: bool) -> list:
    """``num`` batches of the workload's synthetic data as CPU tensors."""
    import torch

    x, y = workload.data(workload.batch_size * num)
    b = workload.batch_size
    out = []
    for i in range(num):
        bx = torch.from_numpy(x[i * b:(i + 1) * b].copy())
        if channels_first and bx.ndim == 4:
            bx = bx.permute(0, 3, 1, 2).contiguous()
        by = torch.from_numpy(y[i * b:(i + 1) * b].copy())
        out.append((bx, by.long() if long_labels else by))
    return out


def hand_step(module, optimizer):
    """The usual PyTorch step: ``zero_grad(set_to_none=True)``, forward, cross-entropy,
    ``backward``, ``optimizer.step``; ``(state, (x, y)) -> (state, loss)``."""
    import torch.nn.functional as F

    def step(state, batch):
        x, y = batch
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(module(x), y)
        loss.backward()
        optimizer.step()
        return state, loss.detach()

    return step


def adam(module, **variant):
    import torch

    return torch.optim.Adam(module.parameters(), lr=wl.LEARNING_RATE, betas=(wl.BETA_1, wl.BETA_2),
                            eps=wl.EPSILON, **variant)


def pk_torch_state(workload: wl.Workload, model, opt, seed: int = wl.SEED):
    from purekeras import nn, random, train

    return train.init_state(model, opt, random.key(seed, backend="torch"),
                            nn.InputSpec((None, *workload.input_shape)))


def initial_losses_agree(workload: wl.Workload) -> bool:
    """Sanity check: the hand-written module and purekeras give the same initial loss."""
    import torch
    import torch.nn.functional as F

    model, loss, _, _ = workload.purekeras_parts()
    ts = pk_torch_state(workload, model, workload.purekeras_parts()[2])
    x, y = torch_batches(workload, 1, channels_first=False, long_labels=False)[0]
    pk_loss = loss(y, model.apply(ts.params, ts.state, x)[0])
    xc = x.permute(0, 3, 1, 2).contiguous() if x.ndim == 4 else x
    with torch.no_grad():
        hand_loss = F.cross_entropy(torch_module(workload, ts.params)(xc), y.long())
    return bool(torch.allclose(pk_loss, hand_loss, rtol=1e-4, atol=1e-5))


class ThreadsRunner(h.StepRunner):
    """A ``StepRunner`` that sets ``torch.set_num_threads(threads)`` before each window."""

    threads: int = 1

    def window(self, calls: int) -> float:
        import torch

        torch.set_num_threads(self.threads)
        return super().window(calls)


def _runner(name, step, state, batches, threads=None):
    if threads is None:
        return h.StepRunner(name, step, state, batches)
    runner = ThreadsRunner(name, step, state, batches)
    runner.threads = threads
    return runner


def step_runners(workload: wl.Workload, *, compiled: bool, threads: int | None = None,
                 with_jax: bool = True) -> list[h.StepRunner]:
    import purekeras as pk
    from purekeras import train

    model, loss, opt, _ = workload.purekeras_parts()
    ts = pk_torch_state(workload, model, opt)
    pk_batches = torch_batches(workload, 4, channels_first=False, long_labels=False)
    hand_batches = torch_batches(workload, 4, channels_first=True, long_labels=True)
    step = train.make_train_step(model, loss, opt)
    runners = [_runner("pk traced", pk.jit(step, backend="torch"), ts, pk_batches, threads),
               _runner("pk eager", pk.jit(step, backend="torch", compile=False), ts, pk_batches, threads)]
    for label, variant in (("hand foreach", {"foreach": True}), ("hand fused", {"fused": True})):
        module = torch_module(workload, ts.params)
        runners.append(_runner(label, hand_step(module, adam(module, **variant)), None, hand_batches, threads))
    if compiled:
        import torch

        runners.append(pk_compiled_runner(workload, pk_batches, threads))
        module = torch_module(workload, ts.params)
        runners.append(_runner("hand compiled", hand_step(torch.compile(module), adam(module, fused=True)),
                               None, hand_batches, threads))
    if with_jax:
        runners.append(h.StepRunner("pk JAX", pk.jit(step, backend="jax"), workload.purekeras_state(model, opt),
                                    wl.device_batches(workload, 4)))
    return runners


def pk_compiled_runner(workload: wl.Workload, batches, threads=None) -> h.StepRunner:
    """purekeras's step through ``pk.jit(..., compile=True)``, from fresh state."""
    import purekeras as pk
    from purekeras import train

    model, loss, opt, _ = workload.purekeras_parts()
    step = pk.jit(train.make_train_step(model, loss, opt), backend="torch", compile=True)
    return _runner("pk compiled", step, pk_torch_state(workload, model, opt), batches, threads)


def warm_compile_seconds(workload: wl.Workload) -> float:
    """Compile time of purekeras's step again after ``torch._dynamo.reset()``: Dynamo
    traces anew, Inductor finds its code in the on-disk cache (a second run of a script)."""
    import torch._dynamo

    torch._dynamo.reset()
    batches = torch_batches(workload, 1, channels_first=False, long_labels=False)
    return pk_compiled_runner(workload, batches).first_call()


def _first_calls(runners: list) -> tuple[list, dict, dict]:
    """First call of each runner (compilation included) and its second call (where the
    default PyTorch ``pk.jit`` traces; in ``seconds`` as ``"<name> 2nd"``); runners
    that fail are dropped and their error's first line kept."""
    ok, seconds, failed = [], {}, {}
    for runner in runners:
        try:
            seconds[runner.name] = runner.first_call()
            seconds[f"{runner.name} 2nd"] = runner.window(1)
            ok.append(runner)
        except Exception as err:  # noqa: BLE001 - reported in the table
            failed[runner.name] = f"{type(err).__name__}: {str(err).strip().splitlines()[0][:120]}"
            print(f"  {runner.name} failed: {failed[runner.name]}", file=sys.stderr, flush=True)
    return ok, seconds, failed


# -- table 1: threads ---------------------------------------------------------------------
def threads_table(quick: bool) -> str:
    import torch

    default_threads = torch.get_num_threads()
    rows = []
    for name in ("W1", "W2"):
        workload = wl.WORKLOADS[name]
        runners = []
        for threads in (1, 2):
            for r in step_runners(workload, compiled=False, threads=threads, with_jax=False):
                if r.name in ("pk traced", "hand fused"):
                    r.name = f"{r.name} t{threads}"
                    runners.append(r)
        runners, _, _ = _first_calls(runners)
        times = h.interleaved(runners, windows=5 if quick else 11, target_s=0.2 if name == "W1" else 0.4)
        med = {k: h.median(v) for k, v in times.items()}
        for who in ("pk traced", "hand fused"):
            one, two = med[f"{who} t1"], med[f"{who} t2"]
            rows.append([name, who, h.ms(one), h.ms(two), f"{two / one:.2f}",
                         "1" if one <= two else "2",
                         f"{h.spread(times[f'{who} t1']):.2f} / {h.spread(times[f'{who} t2']):.2f}"])
        print(f"  threads {name}: done", file=sys.stderr, flush=True)
    torch.set_num_threads(default_threads)
    return h.markdown_table(["workload", "step", "1 thread ms", "2 threads ms", "2t / 1t", "faster",
                             "IQR/median (1t / 2t)"], rows)


# -- table 2: train step ------------------------------------------------------------------
def train_step_table(quick: bool, compiled: bool) -> str:
    rows = []
    for name, workload in wl.WORKLOADS.items():
        big = name == "W3"
        runners, first, failed = _first_calls(step_runners(workload, compiled=compiled))
        times = h.interleaved(runners, windows=(3 if big else 5) if quick else (7 if big else 11),
                              target_s=1.0 if big else (0.2 if name == "W1" else 0.4))
        med = {k: h.median(v) for k, v in times.items()}
        best_hand = min(("hand foreach", "hand fused"), key=med.get)
        # Ratios pair each window with the baseline's next to it (steadier under drifting load).
        traced_ratio = h.paired_ratio(times["pk traced"], times[best_hand])
        eager_ratio = h.paired_ratio(times["pk eager"], times[best_hand])

        def cell(key):
            return h.ms(med[key]) if key in med else (f"failed ({failed[key]})" if key in failed else "—")

        if "pk compiled" in med and "hand compiled" in med:
            best_compiled = min(("hand compiled", best_hand), key=med.get)
            comp_ratio = h.paired_ratio(times["pk compiled"], times[best_compiled])
            comp_cells = [f"**{comp_ratio:.3f}** ({h.goal(comp_ratio <= GOAL_STEP)})"]
        else:
            comp_cells = ["—"]
        compile_cell = "—"
        if "pk compiled" in first and "hand compiled" in first:
            compile_cell = (f"{first['pk compiled']:.1f} / {warm_compile_seconds(workload):.1f} / "
                            f"{first['hand compiled']:.1f}")
        rows.append([
            name, cell("pk traced"), cell("pk eager"), cell("hand foreach"), cell("hand fused"),
            f"**{traced_ratio:.3f}** ({h.goal(traced_ratio <= GOAL_STEP)})", f"{eager_ratio:.3f}",
            f"{first['pk traced 2nd']:.3f}",
            cell("pk compiled"), cell("hand compiled"), *comp_cells, compile_cell,
            cell("pk JAX"),
            " / ".join(f"{h.spread(times[k]):.2f}" for k in times),
        ])
        print(f"  step {name}: done", file=sys.stderr, flush=True)
    return h.markdown_table(
        ["workload", "pk traced ms", "pk eager ms", "hand foreach ms", "hand fused ms",
         f"pk traced / best hand (goal <= {GOAL_STEP})", "pk eager / best hand", "trace s (2nd call)",
         "pk compiled ms", "hand compiled ms",
         f"pk compiled / best hand (goal <= {GOAL_STEP})", "compile s (pk cold / pk warm / hand cold)", "pk JAX ms",
         "IQR/median (each column)"], rows)


# -- table 3: fit -------------------------------------------------------------------------
class PkFit(bench_fit.PkFit):
    """``bench_fit.PkFit`` on any backend, optionally with ``jit_compile=True``."""

    def __init__(self, workload: wl.Workload, backend: str, jit_compile="auto"):
        import purekeras as pk
        from purekeras import optim, train

        self.workload = workload
        self.x, self.y = bench_fit.dataset(workload)
        self.model = pk.Model(workload.purekeras_spec(), input_shape=workload.input_shape, backend=backend)
        self.model.compile(optimizer=optim.Adam(learning_rate=wl.LEARNING_RATE, epsilon=wl.EPSILON),
                           loss=train.losses.SparseCategoricalCrossentropy(from_logits=True),
                           metrics=["accuracy"], jit_compile=jit_compile)


class KerasTorchFit(bench_fit.KerasFit):
    """``bench_fit``'s Keras subprocess with ``KERAS_BACKEND=torch`` and our thread count."""

    def __init__(self, name: str, threads: int):
        import json

        env = dict(os.environ, KERAS_BACKEND="torch", TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS=str(threads))
        self.stderr = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "bench_fit.py"), "--keras-worker", name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            env=env, cwd=str(HERE))
        info = json.loads(self._read())
        if info["backend"] != "torch":
            raise RuntimeError(f"Keras ran on {info['backend']!r}, not PyTorch.")
        self.version = info["version"]


def fit_table(quick: bool, compiled: bool, threads: int) -> str:
    name = "W1"
    workload = wl.WORKLOADS[name]
    epochs, trials = (3, 2) if quick else (4, 5)
    keras = KerasTorchFit(name, threads)
    candidates = {"pk torch": PkFit(workload, "torch"), "keras torch": keras}
    if compiled:
        candidates["pk torch compiled"] = PkFit(workload, "torch", jit_compile=True)
    candidates["pk JAX"] = PkFit(workload, "jax")
    times = {k: [] for k in candidates}
    for t in range(trials):
        for key in (candidates if t % 2 == 0 else reversed(list(candidates))):
            times[key] += candidates[key].trial(epochs)
    keras.close()
    steps = bench_fit.STEPS_PER_EPOCH[name]
    rate = {k: steps / h.median(v) for k, v in times.items()}
    row = [f"{name} ({steps} steps/epoch)", f"{rate['keras torch']:.0f}"]
    for key in ("pk torch", "pk torch compiled"):
        if key in rate:
            r = rate[key] / rate["keras torch"]
            row += [f"{rate[key]:.0f}", f"**{r:.2f}** ({h.goal(r >= GOAL_FIT)})"]
        else:
            row += ["—", "—"]
    row += [f"{rate['pk JAX']:.0f}", " / ".join(f"{h.spread(times[k]):.2f}" for k in times)]
    return h.markdown_table(
        ["workload", f"Keras {keras.version} torch fit steps/s", "pk torch fit steps/s",
         f"pk/Keras (goal >= {GOAL_FIT})", "pk torch fit, jit_compile=True steps/s",
         "compiled pk/Keras", "pk JAX fit steps/s", "IQR/median (" + " / ".join(times) + ")"], [row])


def main() -> None:
    def extra(parser):
        parser.add_argument("--threads", type=int, default=1, help="torch threads for tables 2 and 3")
        parser.add_argument("--skip-compiled", action="store_true", help="no torch.compile candidates")
        parser.add_argument("--tables", default="threads,step,fit", help="which tables (comma-separated)")

    args = h.parse_args(__doc__.splitlines()[0], extra)
    # A fresh Inductor cache: compile times are those of a first run on this machine.
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="bench-torch-inductor-"))
    import torch

    tables = args.tables.split(",")
    compiled = not args.skip_compiled
    print(f"\n_torch {torch.__version__}; same initial loss, hand-written vs purekeras: "
          f"{', '.join(f'{n} {initial_losses_agree(w)}' for n, w in wl.WORKLOADS.items())}_", flush=True)
    if "threads" in tables:
        h.header("PyTorch threads: 1 vs 2 (ms per train step, median)")
        print(threads_table(args.quick), flush=True)
    torch.set_num_threads(args.threads)
    if "step" in tables:
        h.header(f"Train step on PyTorch ({args.threads} thread(s)): purekeras vs hand-written "
                 "(ms per step, median)")
        print(train_step_table(args.quick, compiled), flush=True)
    if "fit" in tables:
        start = time.perf_counter()
        h.header(f"fit on PyTorch ({args.threads} thread(s)): pk.Model.fit vs Keras 3 fit "
                 "(KERAS_BACKEND=torch), steps/s from the median epoch")
        print(fit_table(args.quick, compiled, args.threads), flush=True)
        print(f"  fit: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
