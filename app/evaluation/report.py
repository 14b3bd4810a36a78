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


def label(run: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    """A run's column name: its set, and its model when several models are compared."""
    several_models = len({r["model"] for r in runs}) > 1
    several_sets = len({r.get("set", "gold") for r in runs}) > 1
    if several_sets and several_models:
        return f"{run.get('set', 'gold')} · {run['model']}"
    return run.get("set", "gold") if several_sets else run["model"]


def _cell(text: Any, limit: int | None = None) -> str:
    out = str(text).replace("|", "\\|").replace("\n", " ")
    return out[:limit] + "…" if limit and len(out) > limit else out


def markdown(runs: list[dict[str, Any]]) -> str:
    """Side-by-side tables for one or more (set, model) runs."""
    names = [label(r, runs) for r in runs]
    head = "| metric | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    rows = [
        ("cases", lambda s: s["cases"]),
        ("answer accuracy", lambda s: s["accuracy"]),
        ("accuracy, cases not hard", lambda s: (f"{_fmt(s['accuracy_not_hard'])} ({s['cases_not_hard']})"
                                                if "accuracy_not_hard" in s else None)),
        ("accuracy, hard cases", lambda s: (f"{_fmt(s['accuracy_hard'])} ({s['cases_hard']})"
                                            if s.get("cases_hard") else None)),
        ("tool selection precision", lambda s: s["tool_selection"]["precision"]),
        ("tool selection recall", lambda s: s["tool_selection"]["recall"]),
        ("tool selection F1", lambda s: s["tool_selection"]["f1"]),
        ("conflict flag precision", lambda s: s["conflict_flags"]["precision"]),
        ("conflict flag recall", lambda s: s["conflict_flags"]["recall"]),
        ("conflict flags tp / fp / fn", lambda s: "{tp} / {fp} / {fn}".format(**s["conflict_flags"])),
        ("latency p50 (s)", lambda s: s["latency_p50_s"]),
        ("latency p95 (s)", lambda s: s["latency_p95_s"]),
        ("failed jobs", lambda s: s["failed_jobs"]),
        ("tool errors", lambda s: ", ".join(f"{k} {v}" for k, v in s["tool_errors"].items()) or "0"),
        ("planning rounds, mean", lambda s: s.get("rounds", {}).get("mean")),
        ("jobs with a second round (right)", lambda s: (
            f"{s['rounds']['jobs_with_more_than_one']} ({s['rounds']['right_with_more_than_one']})"
            if "rounds" in s else None)),
    ]
    out = ["# jimoku evaluation\n", head + "\n".join(
        f"| {title} | " + " | ".join(_fmt(get(r["summary"])) for r in runs) + " |" for title, get in rows)]
    rules = {r.get("set", "gold"): r["summary"].get("tool_rule") for r in runs if r["summary"].get("tool_rule")}
    if rules:
        out.append("\nTool selection: " + "; ".join(f"{k}: {v}" for k, v in rules.items()) + ". "
                   "Conflict flags: a `conflict` or `count_mismatch` flag on the job.")
    for r, name in zip(runs, names, strict=True):
        s = r["summary"]
        realdev = r.get("set") == "realdev"
        out.append(f"\n## {name}\n")
        if r.get("source"):
            out.append(f"Set: {r.get('set', 'gold')} ({r['source']}); model: {r['model']}.\n")
        out.append("### By case kind\n\n| kind | cases | accuracy | p50 s | p95 s |\n|---|---|---|---|---|")
        out += [f"| {k} | {v['cases']} | {_fmt(v['accuracy'])} | {_fmt(v['latency_p50_s'])} | {_fmt(v['latency_p95_s'])} |"
                for k, v in s["by_kind"].items()]
        out.append("\n### Calibration (accuracy per confidence bucket)\n\n| confidence | cases | mean confidence | accuracy |\n|---|---|---|---|")
        out += [f"| {b['bucket']} | {b['cases']} | {_fmt(b['mean_confidence'])} | {_fmt(b['accuracy'])} |"
                for b in s["calibration"]]
        if not realdev:
            wrong = [c for c in r["cases"] if not c["correct"] or c["planned"] != c["expected"]
                     or c["conflict_flagged"] != c["conflict_expected"]]
            if wrong:
                out.append("\n### Cases to look at\n\n| case | right | planned | expected | conflict flagged/expected | answer |\n|---|---|---|---|---|---|")
                for c in wrong:
                    out.append(f"| {c['id']} | {'yes' if c['correct'] else 'no'} | {c['planned']} | {c['expected']} | "
                               f"{c['conflict_flagged']}/{c['conflict_expected']} | {_cell(c['answer'], 120)} |")
        out.append("\n### Every case\n\n| case | hard | right | answer | tools called | expected | flags | rounds | s |"
                   "\n|---|---|---|---|---|---|---|---|---|")
        for c in r["cases"]:
            called = ", ".join(f"{t}:{f}" for t, f in c.get("called", []))
            if realdev:
                expected = ", ".join(c.get("expected_families") or []) or "none"
                called += f" ({', '.join(c.get('families', [])) or 'none'})"
            else:
                expected = ", ".join(f"{t}:{f}" for t, f in c["expected"]) or "none"
            right = "right" if c["correct"] else "wrong"
            if c.get("rejected_by"):
                right += f" (reject: {', '.join(c['rejected_by'])})"
            if c.get("error"):
                right += f" ({c['error']})"
            out.append(f"| {c['id']} | {'yes' if c.get('hard') else ''} | {_cell(right, 140)} | {_cell(c['answer'], 160)} | "
                       f"{called or 'none'} | {expected} | {', '.join(c['flags']) or '–'} | {c.get('rounds', 1)} | "
                       f"{_fmt(c['seconds'])} |")
    return "\n".join(out) + "\n"


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    """Reliability diagram (accuracy vs confidence) and per-case latency, per run (set, model)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    for r in runs:
        pts = [(b["mean_confidence"], b["accuracy"], b["cases"]) for b in r["summary"]["calibration"] if b["cases"]]
        if pts:
            xs, ys, _ = zip(*pts, strict=True)
            left.plot(xs, ys, marker="o", label=label(r, runs))
            for x, y, n in pts:
                left.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    left.set(xlim=(0, 1), ylim=(0, 1.05), xlabel="draft confidence (bucket mean)", ylabel="answer accuracy",
             title="Reliability diagram (numbers: cases)")
    left.legend(fontsize=7)
    right.boxplot([[c["seconds"] for c in r["cases"]] for r in runs], tick_labels=[label(r, runs)[:28] for r in runs])
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
