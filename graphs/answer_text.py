"""The answer's last wording, in code: what a reader takes from its first words.

A 1.5B draft says "The evidence does not show ..." when it cannot answer, and anything
after other words easily reads as an answer; a factory app or a reviewer scanning the
queue should see at once that the system could not tell. And a Japanese question that
asks 何月 ("which month") wants "11月", not a bare "11" that could be a day or a count.
"""

from __future__ import annotations

import re
import unicodedata

from graphs.prompts import NOT_SHOWN
from graphs.retrieval import CJK_LETTERS

_JA_REFUSALS = ("分かりません", "わかりません", "不明です")
_JAPANESE = re.compile(f"[{CJK_LETTERS}]")


def is_japanese(text: str) -> bool:
    """True when the text has kana or kanji (the question's language, for the answer's wording)."""
    return bool(_JAPANESE.search(text))


def is_refusal(answer: str) -> bool:
    """The draft says the evidence does not answer the question (English or Japanese)."""
    return NOT_SHOWN.lower() in answer.lower() or any(r in answer for r in _JA_REFUSALS)


def _opener(question: str) -> str:
    return "分かりません。" if is_japanese(question) else "Cannot tell: "


def refusal(question: str) -> str:
    """A refusal written by code, in the question's language (`is_refusal` reads both)."""
    body = "資料からは答えが読み取れません。" if is_japanese(question) else f"{NOT_SHOWN.lower()} the answer."
    return _opener(question) + body


def plainly_refused(question: str, answer: str) -> str:
    """A refusal that opens with "Cannot tell" (分かりません for a Japanese question)."""
    opener = _opener(question)
    if not is_refusal(answer) or answer.lower().startswith(opener.rstrip(":。 ").lower()):
        return answer
    return opener + answer


# 何 + a counter asks for a number of that unit: 何月 (month), 何人 (people), 何台 (machines)…
_COUNTER_QUESTION = re.compile(r"何(月|日|年|人|名|個|台|本|枚|回|時|分|秒|歳|階|件|度|円|倍|週|号|番|箱)")
_BARE_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def with_counter(question: str, answer: str) -> str:
    """A bare number answering a 何+counter question gets the counter ("11" → "11月")."""
    asked = _COUNTER_QUESTION.search(unicodedata.normalize("NFKC", question))
    bare = unicodedata.normalize("NFKC", answer).strip().rstrip("。.")
    if asked and _BARE_NUMBER.fullmatch(bare):
        return bare + asked.group(1)
    return answer
