"""The method's texts and keyword rules, loaded from the data files (yixiang/pipeline/playbook_data/).

Kept as data so a sales manager can reword a signal or add a keyword without touching code;
``PLAYBOOK_FILE`` / ``KEYWORD_RULES_FILE`` point at a replacement file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.utils import translation

from yixiang.pipeline import rules
from yixiang.pipeline.conf import conf

DATA_DIR = Path(__file__).resolve().parent / "playbook_data"


@dataclass(frozen=True)
class Signal:
    code: str
    text: str
    stage: int


@dataclass(frozen=True)
class StageGuide:
    stage: int
    definition: str
    signals: tuple[Signal, ...]
    questions: tuple[str, ...]
    lift_tips: tuple[str, ...]  # how to lift a customer INTO this stage from the one below
    purpose: str


@dataclass(frozen=True)
class Playbook:
    stages: dict[int, StageGuide]
    keyword_rules: tuple[rules.KeywordRule, ...]
    negations: tuple[str, ...]
    signal_stage: dict[str, int] = field(default_factory=dict)

    def guide(self, stage: int) -> StageGuide | None:
        return self.stages.get(stage)

    def guides_for_form(self, stage: int) -> list[StageGuide]:
        """The current stage and the next one: what the follow-up form shows."""
        out = [self.stages[s] for s in (stage, rules.next_stage(stage)) if s is not None and s in self.stages]
        return list(dict.fromkeys(out))

    def lift_tips(self, stage: int) -> tuple[str, ...]:
        """Ways to lift a customer from ``stage`` to the next one."""
        nxt = rules.next_stage(stage)
        return self.stages[nxt].lift_tips if nxt is not None and nxt in self.stages else ()

    def purpose(self, stage: int) -> str:
        g = self.stages.get(stage)
        return g.purpose if g else ""

    def signal_text(self, code: str) -> str:
        for g in self.stages.values():
            for s in g.signals:
                if s.code == code:
                    return s.text
        return code


def _read(setting: str, default_name: str) -> dict:
    path = Path(conf(setting) or DATA_DIR / default_name)
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _load(playbook_file: str, keyword_file: str) -> Playbook:
    raw = _read("PLAYBOOK_FILE", "playbook.json")
    stages: dict[int, StageGuide] = {}
    signal_stage: dict[str, int] = {}
    for key, g in raw["stages"].items():
        stage = int(key)
        signals = tuple(Signal(code=s["code"], text=s["text"], stage=stage) for s in g.get("signals", []))
        for s in signals:
            if s.code in signal_stage:
                raise ValueError(f"signal code {s.code!r} appears twice in the playbook")
            signal_stage[s.code] = stage
        stages[stage] = StageGuide(
            stage=stage,
            definition=g.get("definition", ""),
            signals=signals,
            questions=tuple(g.get("questions", [])),
            lift_tips=tuple(g.get("lift_tips", [])),
            purpose=g.get("purpose", ""),
        )
    kw = _read("KEYWORD_RULES_FILE", "keywords.json")
    keyword_rules = tuple(rules.KeywordRule(stage=int(r["stage"]), words=tuple(r["words"])) for r in kw["rules"])
    return Playbook(
        stages=dict(sorted(stages.items())),
        keyword_rules=keyword_rules,
        negations=tuple(kw.get("negations", [])),
        signal_stage=signal_stage,
    )


def get_playbook() -> Playbook:
    """The playbook for the configured files (cached per file pair)."""
    return _load(str(conf("PLAYBOOK_FILE")), str(conf("KEYWORD_RULES_FILE")))


@lru_cache(maxsize=1)
def _english_texts() -> dict[str, str]:
    path = DATA_DIR / "playbook.en.json"
    return json.loads(path.read_text(encoding="utf-8"))["texts"]


def english_text(text: str) -> str | None:
    """The English of one of the method's Chinese texts when the interface is in English, else None.

    The method is written in Chinese (DOMAIN.md, the seeds); the English interface shows the English
    with the Chinese original beside it, so a rep can still say the words to a customer."""
    if not text or not (translation.get_language() or "").startswith("en"):
        return None
    return _english_texts().get(text)


def english_of(text: str) -> str:
    """The English of a method text whatever the interface language ("" when there is none)."""
    return _english_texts().get(text, "") if text else ""


def method_outline() -> list[dict]:
    """Every stage's definition, signals, judging questions and lifting tips, in Chinese as the
    seed words them and in English: what GET /api/v1/method serves to a mobile or integration client.
    ``lift_tips`` are the ways to lift a customer INTO this stage from the one below."""

    def both(texts: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
        return [{"zh": t, "en": english_of(t)} for t in texts]

    out = []
    for g in get_playbook().stages.values():
        out.append(
            {
                "stage": g.stage,
                "definition": {"zh": g.definition, "en": english_of(g.definition)},
                "signals": [{"code": s.code, "zh": s.text, "en": english_of(s.text)} for s in g.signals],
                "questions": both(g.questions),
                "lift_tips": both(g.lift_tips),
                "purpose": {"zh": g.purpose, "en": english_of(g.purpose)},
            }
        )
    return out
