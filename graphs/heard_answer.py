"""The answer to "Which machine does the memo say is overheating?" when a memo names it plainly.

A voice memo saying "Machine KX200 is overheating on line one." answers "which machine …
is overheating?" with the words before the verb: the noun the question asks about and the
code after it. The 1.5B drafter, given the transcript and that phrase as a fact
(`graphs.heard_as`), copies it, but takes 4–6 s to do so (the longest drafts of the gold
set); code reads it exactly, at no cost. So such a question is answered in code, and only
when nothing makes it doubtful:

- an English "which <noun> …" subject question asking for a value (no yes/no question, no
  comparison, no code in the question), and every successful step is a transcript;
- every sentence holding the question's verb (heard exactly, not a near-spelling) has,
  before it and only auxiliaries between, the question's noun and one code ("Machine
  KX200", "machine K X 200"): nothing else ("Machine KX200 is not", "the old machine");
- all of them name the same code.

Anything else (a misheard verb, two machines, a negation, a "what" question) is drafted by
the LLM with the phrase among its facts. Everything after the draft is the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from graphs.evidence import norm_code
from graphs.extractive import FieldAnswer, asks_for_a_value
from graphs.heard_as import Subject, english_subjects, same_word
from graphs.state import StepResult
from tools.registry import Produces

MAX_CODE_PIECES = 3
"""A code heard as at most this many words ("K X 200")."""
_CODE_PIECE = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]*[A-Z0-9])?$")


def named_subject_answer(question: str, steps: Sequence[StepResult]) -> FieldAnswer | None:
    """"Machine KX200" for "Which machine … is overheating?" over memos that name one, or None."""
    ok = [s for s in steps if s["ok"]]
    if not ok or any(s.get("produces") != Produces.TRANSCRIPT for s in ok) or not asks_for_a_value(question):
        return None
    found: list[tuple[str, Subject]] = []
    for s in ok:
        text = (s["result"] or {}).get("text") or ""
        found += [(s["step"], subject) for subject in english_subjects(question, text)]
    if not found or not all(_names_one_code(subject) for _, subject in found):
        return None
    if len({norm_code("".join(subject.phrase[1:])) for _, subject in found}) != 1:
        return None
    return FieldAnswer(field="named subject", answer=" ".join(found[0][1].phrase),
                       citations=list(dict.fromkeys(step for step, _ in found)))


def _names_one_code(subject: Subject) -> bool:
    """The question's noun, then one code, then only auxiliaries before the verb as asked."""
    wh, *noun = subject.asked.split()
    if wh.lower() != "which" or len(noun) != 1 or subject.misheard:
        return False
    head, *pieces = subject.phrase
    return (same_word(head, noun[0]) and 0 < len(pieces) <= MAX_CODE_PIECES
            and all(_CODE_PIECE.match(p) for p in pieces) and any(c.isdigit() for p in pieces for c in p))
