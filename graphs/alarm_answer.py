"""The answer to "has anyone fallen?" when the detector's only falls are below the floor.

A fall found at 0.38 on a photo turned on its side, or on a dog, is neither a "yes" nor a
"no": the 1.5B drafter, told so in a fact, still answers a bare "No" (or "Yes"). The
honest answer is that it is not certain and a person should look, with the numbers
that make it so; code writes it, exactly and at no cost, and the check still flags the
uncertain alarm, so such a job is never approved without a person.

Only a yes/no question about a fall is answered here, and only when every alarm detection
is below its floor: a fall above the floor is a fact the LLM drafts from, and none at all
is a plain "no" it writes well.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from graphs.answer_checks import alarm_detections
from graphs.answer_text import is_japanese
from graphs.evidence import ASKS_ABOUT_A_FALL
from graphs.extractive import FieldAnswer, asks_yes_no
from graphs.state import StepResult


def uncertain_fall_answer(question: str, steps: Sequence[StepResult], alarm_classes: frozenset[str],
                          floor: float, class_floors: Mapping[str, float] | None = None) -> FieldAnswer | None:
    """"Not certain: …" for a yes/no fall question whose fall detections are all below the floor."""
    q = unicodedata.normalize("NFKC", question)
    if "Fall" not in alarm_classes or not ASKS_ABOUT_A_FALL.search(q) or not asks_yes_no(q):
        return None
    falls = [(step["step"], float(d.get("confidence", 0)), need) for step in steps
             for d, need in alarm_detections(step, alarm_classes, floor, class_floors) if d.get("class_name") == "Fall"]
    if not falls or any(conf >= need for _, conf, need in falls):
        return None
    best = max(conf for _, conf, _ in falls)
    need = max(n for _, _, n in falls)
    cited = list(dict.fromkeys(sid for sid, _, _ in falls))
    if is_japanese(question):
        answer = (f"確かではありません。転倒の可能性がある検出が{len(falls)}件ありますが、信頼度（最大{best:.2f}）が"
                  f"基準の{need:.2f}未満です。人が確認してください。")
    else:
        answer = (f"Not certain: the detector found {len(falls)} possible fall(s) (highest confidence {best:.2f}, "
                  f"below the {need:.2f} floor); a person should look.")
    return FieldAnswer(field="fall", answer=answer, citations=cited)
