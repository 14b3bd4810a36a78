"""Where a transcript answers a "what/who … <verb>" question: the words in the verb's place.

A 1.5B draft reading "The still smell of cold beer lingers." answers "What does the speaker
say lingers?" with "cold beer", and one reading "his belly countled him" (speech recognition's
"countled" for "counselled") says the evidence does not show what counselled him. Both are
questions whose answer is the phrase the transcript has where the question has its wh-word,
found by lining the question up with the transcript:

- English: a subject question ("what counselled him?", "what does the memo say is
  overheating?") whose verb the transcript holds, exactly or as a near-spelling of it
  (same first letter, similar letters): the answer is the clause's words before the verb.
- Japanese: the question and the transcript aligned character by character
  (`difflib.SequenceMatcher`); 何が between two anchors the transcript shares
  (「風で」 … 「なぎ」) lines up with what the transcript says there (「舞い看板も」), and the
  characters that differ between shared anchors are what was heard in place of the question's
  (「たを」 for 「倒」).

The result is a fact for the draft (`graphs.drafting`), never the answer itself: the draft
still writes the answer and the checks still read it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from graphs.answer_text import is_japanese
from graphs.state import StepResult
from tools.registry import Produces

SIMILAR_SPELLING = 0.72
"""Two words at least this alike (difflib's ratio), with the same first letter, are taken
for one word misheard: "countled"/"counselled" 0.78, "overheting"/"overheating" 0.95."""
MAX_SUBJECT_WORDS = 8
ANCHOR_CHARS = 2
"""A Japanese wh-phrase is placed only between shared runs of at least this many characters."""

_AUXILIARIES = frozenset(["is", "are", "was", "were", "be", "been", "has", "have", "had", "will", "would", "can", "could", "may", "might"])
_SAYING = r"(?:say|said|says|mention|mentions|mentioned|claim|claims|report|reports|think|thinks)"
_SUBJECT_QUESTION = re.compile(
    rf"\b(?P<wh>what|who|which\s+\w+)\s+(?:(?:does|did|do)\s+(?:[\w'-]+\s+){{1,4}}?{_SAYING}\s+)?(?P<rest>[^?]+)", re.I)
_CLAUSE_START = frozenset(["and", "but", "or", "that", "which", "who", "because", "so", "then", "when", "while"])
_WORD = re.compile(r"[\w'-]+")
_CLAUSE_BREAKS = ",;:"
_WORD_OR_BREAK = re.compile(r"[\w'-]+|[,;:]")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")
_JA_WH = re.compile(r"(?:何|なに|誰|だれ|どこ|どれ)(?:から|まで|が|を|に|で|へ|と|は)?")


def heard_as(question: str, steps: Sequence[StepResult]) -> list[str]:
    """Facts: for each transcript, the phrase in the place of the question's wh-word."""
    facts = []
    for s in steps:
        text = (s["result"] or {}).get("text") if s["ok"] and s.get("produces") == Produces.TRANSCRIPT else None
        if not text:
            continue
        found = _japanese(question, text) if is_japanese(question) else _english(question, text)
        if found:
            facts.append(f"{s['step']}: {found}")
    return facts


@dataclass(frozen=True)
class Subject:
    """What a transcript sentence has before the question's verb, within its clause."""

    asked: str
    """The question's wh-word ("which machine", "what")."""
    verb: str
    """The question's verb ("overheating")."""
    quote: list[str]
    """The sentence's words from the phrase's start to the verb as heard."""
    phrase: list[str]
    """The words in the wh-word's place ("Machine", "KX200"); only auxiliaries ("is") were
    between them and the verb."""
    asked_phrase: str
    """The question's words after its wh-word ("is overheating")."""

    @property
    def heard_verb(self) -> str:
        return self.quote[-1]

    @property
    def misheard(self) -> bool:
        """The verb was heard as a near-spelling of the question's ("countled", "counselled")."""
        return self.heard_verb.lower() != self.verb.lower()


def english_subjects(question: str, transcript: str) -> Iterator[Subject]:
    """For a subject question whose verb the transcript holds, each sentence's phrase before it."""
    asked = _SUBJECT_QUESTION.search(question)
    if not asked:
        return
    words = [w for w in _WORD.findall(asked["rest"]) if w.lower() not in _AUXILIARIES]
    if not words or words[0].lower() in {"do", "does", "did"}:  # "who does he call …": an object question
        return
    verb, asked_phrase = words[0], " ".join(_WORD.findall(asked["rest"])[:6])
    for sentence in _SENTENCE_END.split(transcript):
        heard = _WORD_OR_BREAK.findall(sentence)
        at = next((i for i, w in enumerate(heard) if same_word(w, verb)), None)
        if not at:  # not there, or the sentence's first word: no subject before it
            continue
        first = 0  # the clause holding the verb: after the last comma or conjunction before it
        for i, w in enumerate(heard[:at]):
            if w.lower() in _CLAUSE_START or w in _CLAUSE_BREAKS:
                first = i + 1
        subject = heard[first:at]
        while subject and subject[-1].lower() in _AUXILIARIES:
            subject.pop()
        if not subject:
            continue
        first += max(0, len(subject) - MAX_SUBJECT_WORDS)  # the quote starts where the phrase does
        yield Subject(asked=asked["wh"], verb=verb, quote=heard[first:at + 1], phrase=subject[-MAX_SUBJECT_WORDS:],
                      asked_phrase=asked_phrase)


def _english(question: str, transcript: str) -> str | None:
    found = next(english_subjects(question, transcript), None)
    if found is None:
        return None
    misheard = f' ("{found.heard_verb}" heard for "{found.verb}")' if found.misheard else ""
    return (f'the transcript says "{" ".join(found.quote)}": so what {found.asked_phrase}: '
            f'"{" ".join(found.phrase)}"{misheard}')


def same_word(heard: str, asked: str) -> bool:
    """One word, or a near-spelling of a word of five letters or more (`SIMILAR_SPELLING`)."""
    h, a = heard.lower(), asked.lower()
    if h == a:
        return True
    return (len(a) >= 5 and h[:1] == a[:1]
            and SequenceMatcher(None, h, a, autojunk=False).ratio() >= SIMILAR_SPELLING)


def _japanese(question: str, transcript: str) -> str | None:
    q = unicodedata.normalize("NFKC", question)
    wh = _JA_WH.search(q)
    if not wh:
        return None
    for sentence in _SENTENCE_END.split(unicodedata.normalize("NFKC", transcript)):
        ops = SequenceMatcher(None, q, sentence, autojunk=False).get_opcodes()
        for k, (tag, i1, i2, j1, j2) in enumerate(ops):
            # The op holding the wh-phrase, between shared anchors on both sides.
            if tag == "equal" or not (i1 <= wh.start() < i2) or not 0 < k < len(ops) - 1:
                continue
            before, after = ops[k - 1], ops[k + 1]
            if not (_anchor(before) and _anchor(after)) or j2 <= j1:
                continue
            said = sentence[j1:j2]
            misheard = _misheard(q, sentence, ops[k + 1:])
            quote = sentence[max(0, before[3]):min(len(sentence), after[4])]
            note = f" (「{misheard[0]}」 heard for 「{misheard[1]}」)" if misheard else ""
            return f"the transcript says 「{quote}」: 「{said}」 is in the place of the question's 「{wh.group()}」{note}"
    return None


def _anchor(op: tuple[str, int, int, int, int]) -> bool:
    return op[0] == "equal" and op[2] - op[1] >= ANCHOR_CHARS


def _misheard(q: str, t: str, ops: Sequence[tuple[str, int, int, int, int]]) -> tuple[str, str] | None:
    """The first short difference right after the wh-phrase's anchor, between two anchors:
    what was heard for the question's characters there, each with its anchors."""
    for k in range(1, len(ops) - 1):
        tag, i1, i2, j1, j2 = ops[k]
        if tag == "replace" and _anchor(ops[k - 1]) and _anchor(ops[k + 1]) and i2 - i1 <= 3 and j2 - j1 <= 4:
            left, right = ops[k - 1], ops[k + 1]
            return t[left[3]:right[4]], q[left[1]:right[2]]
        if tag != "equal":
            return None
    return None
