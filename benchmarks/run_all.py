"""Run every benchmark, each in its own subprocess, and print all their tables.

``--quick`` passes ``--quick`` to each script (fewer windows and repeats; under
~5 minutes); ``--out FILE`` also writes the whole Markdown report (machine,
jax version, command, date and every table) to ``FILE``.

Run: ``.venv/bin/python benchmarks/run_all.py [--quick] [--out report.md]``.
"""
from __future__ import annotations

import datetime
import shlex
import subprocess
import sys
import time
from pathlib import Path

import _harness as h

HERE = Path(__file__).resolve().parent
SCRIPTS = ("bench_startup.py", "bench_train_step.py", "bench_flops.py", "bench_fit.py", "bench_torch.py",
           "bench_tf.py", "bench_openvino.py")


def run_script(script: str, quick: bool) -> tuple[str, float]:
    """Run one script, echoing its output as it comes (its progress and errors go to
    our stderr); its stdout (the Markdown tables) and wall seconds."""
    cmd = [sys.executable, str(HERE / script)] + (["--quick"] if quick else [])
    start = time.perf_counter()
    lines = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=str(HERE)) as proc:
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    if proc.returncode != 0:
        lines.append(f"\n**{script} failed (exit {proc.returncode}); its error is on stderr.**\n")
        print(lines[-1], flush=True)
    return "".join(lines), time.perf_counter() - start


def main() -> None:
    def extra(parser):
        parser.add_argument("--out", help="also write the Markdown report to this file")

    args = h.parse_args(__doc__.splitlines()[0], extra)
    info = h.machine_summary()
    command = " ".join([".venv/bin/python", "benchmarks/run_all.py", *sys.argv[1:]])
    started = datetime.datetime.now().astimezone()
    sections, timings = [], []
    for script in SCRIPTS:
        out, seconds = run_script(script, args.quick)
        sections.append(out)
        timings.append((script, seconds))
    total = sum(s for _, s in timings)
    footer = "\n" + h.markdown_table(["script", "wall s"], [[s, f"{t:.0f}"] for s, t in timings]
                                     + [["total", f"{total:.0f}"]])
    print(footer)
    if args.out:
        head = (f"# Benchmark run\n\n- command: `{command}`\n"
                f"- date: {started:%Y-%m-%d %H:%M %Z}\n- machine: {info['cpu']}, {info['cpus']} CPUs\n"
                f"- python {info['python']}, jax {info['jax']}\n"
                f"- load average at start: {info['load']}; at end: {h.machine_summary()['load']}\n")
        Path(args.out).write_text(head + "".join(sections) + footer + "\n")
        print(f"\nwrote {shlex.quote(args.out)}")


if __name__ == "__main__":
    main()
