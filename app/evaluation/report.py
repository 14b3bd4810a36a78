"""The evaluation report: JSON, Markdown and a PNG (reliability diagram, latencies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3f}" if x <= 1 else f"{x:.1f}"
    return str(x)


def markdown(runs: list[dict[str, Any]]) -> str:
    """Side-by-side tables for one or more models."""
    names = [r["model"] for r in runs]
    head = "| metric | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    rows = [
        ("cases", lambda s: s["cases"]),
        ("answer accuracy", lambda s: s["accuracy"]),
        ("tool selection precision", lambda s: s["tool_selection"]["precision"]),
        ("tool selection recall", lambda s: s["tool_selection"]["recall"]),
        ("tool selection F1", lambda s: s["tool_selection"]["f1"]),
        ("conflict flag precision", lambda s: s["conflict_flags"]["precision"]),
        ("conflict flag recall", lambda s: s["conflict_flags"]["recall"]),
        ("latency p50 (s)", lambda s: s["latency_p50_s"]),
        ("latency p95 (s)", lambda s: s["latency_p95_s"]),
        ("failed jobs", lambda s: s["failed_jobs"]),
        ("tool errors", lambda s: ", ".join(f"{k} {v}" for k, v in s["tool_errors"].items()) or "0"),
    ]
    out = ["# jimoku evaluation\n", head + "\n".join(
        f"| {label} | " + " | ".join(_fmt(get(r["summary"])) for r in runs) + " |" for label, get in rows)]
    for r in runs:
        s = r["summary"]
        out.append(f"\n## {r['model']}\n\n### By case kind\n\n| kind | cases | accuracy | p50 s | p95 s |\n|---|---|---|---|---|")
        out += [f"| {k} | {v['cases']} | {_fmt(v['accuracy'])} | {_fmt(v['latency_p50_s'])} | {_fmt(v['latency_p95_s'])} |"
                for k, v in s["by_kind"].items()]
        out.append("\n### Calibration (accuracy per confidence bucket)\n\n| confidence | cases | mean confidence | accuracy |\n|---|---|---|---|")
        out += [f"| {b['bucket']} | {b['cases']} | {_fmt(b['mean_confidence'])} | {_fmt(b['accuracy'])} |"
                for b in s["calibration"]]
        wrong = [c for c in r["cases"] if not c["correct"] or c["planned"] != c["expected"]
                 or c["conflict_flagged"] != c["conflict_expected"]]
        if wrong:
            out.append("\n### Cases to look at\n\n| case | right | planned | expected | conflict flagged/expected | answer |\n|---|---|---|---|---|---|")
            for c in wrong:
                answer = c["answer"].replace("|", "\\|").replace("\n", " ")[:120]
                out.append(f"| {c['id']} | {'yes' if c['correct'] else 'no'} | {c['planned']} | {c['expected']} | "
                           f"{c['conflict_flagged']}/{c['conflict_expected']} | {answer} |")
    return "\n".join(out) + "\n"


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    """Reliability diagram (accuracy vs confidence) and per-case latency, per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    for r in runs:
        pts = [(b["mean_confidence"], b["accuracy"], b["cases"]) for b in r["summary"]["calibration"] if b["cases"]]
        if pts:
            xs, ys, ns = zip(*pts, strict=True)
            left.plot(xs, ys, marker="o", label=r["model"])
            for x, y, n in pts:
                left.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    left.set(xlim=(0, 1), ylim=(0, 1.05), xlabel="draft confidence (bucket mean)", ylabel="answer accuracy",
             title="Reliability diagram (numbers: cases)")
    left.legend(fontsize=7)
    right.boxplot([[c["seconds"] for c in r["cases"]] for r in runs], tick_labels=[r["model"][:28] for r in runs])
    right.set(ylabel="seconds per case", title="Latency per case (warm)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(runs: list[dict[str, Any]], out_dir: Path, stem: str) -> dict[str, Path]:
    """Write `<stem>.json`, `<stem>.md` and `<stem>.png` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"{stem}.{ext}" for ext in ("json", "md", "png")}
    paths["json"].write_text(json.dumps({"runs": runs}, indent=1, ensure_ascii=False) + "\n")
    paths["md"].write_text(markdown(runs))
    plot(runs, paths["png"])
    return paths
