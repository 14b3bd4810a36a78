"""What the drafting LLM is given: facts computed in code, the step summaries, a schema."""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from graphs.answer_checks import uncertain_alarms
from graphs.consistency import conflicts, count_mismatch
from graphs.evidence import spelled_numbers
from graphs.grounding import LONG_TEXT_LINES, compute_facts
from graphs.heard_as import heard_as
from graphs.prompts import ANSWER_ONLY, ANSWER_WITH_CITATIONS, DRAFT_SYSTEM, DRAFT_USER, FACTS
from graphs.retrieval import Line, evidence_lines, relevant_lines, render_lines
from graphs.state import Attachment, StepResult
from tools.registry import Produces

LONG_EVIDENCE_LINES = LONG_TEXT_LINES
"""A step with more lines than this (a long scan, a long recording) is shown to the draft
as the passages relevant to the question rather than its summary."""
PASSAGE_LINES = 5
"""How many best-matching lines (each with a line of context either side) are shown."""


def draft_facts(question: str, steps: Sequence[StepResult], files: Sequence[Attachment],
                alarm_classes: frozenset[str] = frozenset(), alarm_floor: float = 0.0,
                class_floors: Mapping[str, float] | None = None) -> list[str]:
    """Facts per step, where a transcript answers the question's wh-word (`graphs.heard_as`),
    plus the disagreements and weak alarms found in code, so the draft cannot paper over them."""
    disagreements = conflicts(steps) + count_mismatch(question, steps)
    return compute_facts(steps, files) + heard_as(question, steps) + [
        f"{'the evidence disagrees' if f['kind'] != 'uncertain_match' else 'probably the same value'}: "
        f"{f['message']} (steps {', '.join(f['steps'])})" for f in disagreements] + [
        f"{f['steps'][0]}: uncertain: {f['message']}. It may be a real one or a false alarm: say it is "
        "not certain and that a person should look" for f in uncertain_alarms(steps, alarm_classes, alarm_floor, class_floors)]


def draft_request(question: str, steps: Sequence[StepResult], facts: Sequence[str]
                  ) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The messages and the JSON schema of the draft: citations can only name steps that succeeded."""
    step_ids = [s["step"] for s in steps if s["ok"]]
    by_step: dict[str, list[Line]] = {}
    for line in evidence_lines(steps):
        by_step.setdefault(line.step, []).append(line)
    shown: dict[str, list[Line]] = {
        sid: relevant_lines(question, lines, limit=PASSAGE_LINES, related=_related(question, by_step, sid))
        for sid, lines in by_step.items() if len(lines) > LONG_EVIDENCE_LINES}
    refs = [line.ref for lines in shown.values() for line in lines]
    cite = step_ids + refs
    # Every generated token costs ~60 ms on two cores. With one thing to cite, the citation is
    # known without asking: {"answer": "4", "answerable": true} is 14 tokens, with
    # "citations": ["s1"] 20 (~0.4 s a draft). "answerable" stays: without it the 1.5B draft
    # refused answers it was shown (a receipt's phone number, a memo's "his belly").
    properties: dict[str, Any] = {"answer": {"type": "string", "minLength": 1, "maxLength": 600}}
    if len(cite) > 1:
        properties["citations"] = {"type": "array", "items": {"enum": cite}, "maxItems": min(len(cite), 8)}
    properties["answerable"] = {"type": "boolean"}
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    facts = [*facts, *_spelled_number_facts(by_step, shown)]
    evidence = "\n".join(f"{s['step']} ({s['tool']} on {s['file']}): " + _step_evidence(s, by_step, shown)
                         for s in steps)
    shown_facts = _quoted("\n".join(f"- {_by_step_id(f)}" for f in facts))
    messages = [
        {"role": "system", "content": DRAFT_SYSTEM},
        {"role": "user", "content": DRAFT_USER.format(
            question=question, facts=FACTS.format(facts=shown_facts) if facts else "", evidence=_quoted(evidence),
            answer_format=ANSWER_WITH_CITATIONS if "citations" in properties else ANSWER_ONLY)},
    ]
    return messages, schema


ALL_LINES_UNMATCHED = 40
"""Long text none of whose lines shares a word with the question ("What phone number is on this
receipt?" of a 23-line receipt) is shown whole, as its lines, up to this many. It used to be
"23 lines; none shares a word with the question" and the summary's quoted lines with their
scores: told that, the 1.5B draft refused a phone number shown on the next line."""

SPELLED_NUMBER_FACTS = 4
"""At most this many spelled-number facts: a novel's page is full of them."""


def _spelled_number_facts(by_step: dict[str, list[Line]], shown: dict[str, list[Line]]) -> list[str]:
    """Numbers the draft is shown written in words, with their digits, read across the line
    breaks of a page ("one thousand / seven hundred and seventy-five" is 1775)."""
    facts: list[str] = []
    for sid, lines in by_step.items():
        for passage in _passages(shown.get(sid, lines)):
            starts = list(itertools.accumulate((len(line.text) + 1 for line in passage), initial=0))
            text = " ".join(line.text for line in passage)
            facts += [f'{passage[bisect.bisect_right(starts, at) - 1].ref}: "{words}" is the number {digits}'
                      for at, words, digits in spelled_numbers(text)]
    return list(dict.fromkeys(facts))[:SPELLED_NUMBER_FACTS]


def _passages(lines: Sequence[Line]) -> list[list[Line]]:
    """Runs of consecutive lines of one page (or one transcript)."""
    runs: list[list[Line]] = []
    for line in lines:
        last = runs[-1][-1] if runs else None
        if last is not None and (last.step, last.page) == (line.step, line.page) and line.line == last.line + 1:
            runs[-1].append(line)
        else:
            runs.append([line])
    return runs


def _related(question: str, by_step: dict[str, list[Line]], sid: str) -> str:
    """The line of each other step that best matches the question: what the other files say
    about it, which the long step's passages are then also searched by."""
    return " ".join(line.text for other, lines in by_step.items() if other != sid
                    for line in relevant_lines(question, lines, limit=1, context=0))


def _step_evidence(step: StepResult, by_step: dict[str, list[Line]], shown: dict[str, list[Line]]) -> str:
    """A step's summary; for long evidence, the passages relevant to the question, cited by line."""
    if not step["ok"]:
        return f"ERROR {step['error']}"
    lines = by_step.get(step["step"])
    if step["step"] not in shown or (not shown[step["step"]] and len(lines or ()) <= ALL_LINES_UNMATCHED):
        if not lines or step.get("produces") != Produces.TEXT:
            return step["summary"]
        # Read text as the lines it is, not as quoted fragments with scores: a small model
        # reads "and pioneered / Army Cadets" as one sentence only when it is shown as one.
        conf = f" (mean confidence {step['confidence']:.2f})" if step["confidence"] is not None else ""
        return f"read {len(lines)} lines{conf}:\n" + "\n".join(line.text for line in lines)
    picked = shown[step["step"]]
    total = len(lines or ())
    if not picked:
        return step["summary"]
    return (f"{total} lines; the {len(picked)} most relevant to the question, each cited as [step:page:line]:\n"
            + render_lines(picked))


_FACT_SOURCE = re.compile(r'^(s\d+) \(\S+ on \S+ ".*?"\):')  # compute_facts' "where"


def _by_step_id(fact: str) -> str:
    """A fact as the prompt shows it: "s1: serial number …", not "s1 (asr on f1 "memo.ogg"): …".
    The tool results below already say which tool read which file; the reviewer's copy of
    the facts keeps the file names. Each repeat cost about 15 prompt tokens, ~0.2 s."""
    return _FACT_SOURCE.sub(r"\1:", fact, count=1)


def _quoted(text: str) -> str:
    """Evidence cannot close its own quotation: a file's text saying "</evidence>" stays data."""
    return re.sub(r"</?\s*evidence\s*>", "[evidence]", text, flags=re.I)
