"""The one settings class (env prefix `JIMOKU_`), read once and injected everywhere."""

from __future__ import annotations

import json
import os
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools.context import ToolContext


def _default_model_dir() -> Path:
    # Outside the checkout, so fresh clones and new venvs reuse the assembled models.
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "jimoku" / "models"


def _default_data_dir() -> Path:
    data = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return data / "jimoku"


class Settings(BaseSettings):
    """Everything configurable; each field is `JIMOKU_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="JIMOKU_", env_file=None, extra="ignore")

    model_dir: Path = Field(default_factory=_default_model_dir)
    data_dir: Path = Field(default_factory=_default_data_dir)
    plugins_dir: Path | None = None
    plugins: str | None = None
    entry_points: bool = True
    """Load tools from installed packages' `jimoku.tools` entry points (the tests turn this off)."""
    """Comma-separated entry-point names allowed to load; unset loads all."""

    detector_model: Path | None = None
    detector_confidence: float = 0.25
    max_image_pixels: int = 50_000_000
    min_image_side: int = 16
    max_pdf_pages: int = 40
    """Pages read of one PDF (a 30-page specification is read to its end)."""
    max_audio_seconds: float = 900.0
    torch_threads: int = 2
    asr_backend: Literal["faster", "openai"] = "faster"
    """Speech recognition on faster-whisper (the default) or openai-whisper; same weights."""
    asr_compute_type: Literal["float32", "int8"] = "float32"
    """faster-whisper's arithmetic: float32 hears exactly what openai-whisper hears (int8 lost
    a Japanese word on real broadcast speech), int8 is about 1.25× faster."""
    tool_extra: str = "{}"
    """JSON object of settings for plugin tools."""

    max_rounds: int = 3
    """Planning rounds per job: the first plan and up to two more looks when the evidence
    did not answer the question (1 turns looking again off)."""
    replan_budget_seconds: float = 90.0
    """No further planning round starts once a job has run this long."""
    glance: bool = False
    """Read each image and document with the text reader before the first plan, and tell
    the planner whether it holds text (graphs/peek.py)."""
    alarm_classes: str = "Fall"
    """Detector classes that raise an alarm (comma-separated); below `alarm_floor` a
    detection of one is flagged `uncertain_alarm` and the job goes to a person."""
    alarm_floor: float = 0.6
    field_plans: bool = True
    """Plan in code where the LLM has nothing to choose: a question for a labelled field (serial,
    model, voltage…) gets the text reader on every image and document and speech on every
    recording; a job whose every file has one tool that reads it gets that tool (graphs/planner.py)."""
    extractive_answers: bool = True
    """Answer a question for one labelled field (serial, model, part number, material) from
    the one value the evidence labels, without the LLM (graphs/extractive.py)."""

    planner_model: Path | None = None
    """Any GGUF file; unset uses the embedded Qwen2.5-Coder-1.5B."""
    planner_chat_format: str | None = None
    """llama-cpp-python chat format; unset uses the template stored in the GGUF."""
    planner_factory: str | None = None
    """`module:callable` returning a `graphs.llm.ChatModel` (given these settings): another LLM
    backend in place of llama.cpp. Unset: llama.cpp on `planner_model`."""
    planner_threads: int = 2
    planner_context: int = 8192
    planner_flash_attn: bool = False
    """llama.cpp's flash attention: ~20% faster prompts on the CPU, but two borderline gold
    answers changed with it (graphs/llm.py), so it is a choice, not the default."""
    planner_prefix_cache: bool = True
    """Keep each kind of prompt's evaluated prefix (system prompt, tool catalogue) on disk under
    `model_dir/prefix-state`, so a fresh process skips evaluating it (`graphs.llm_prefix`)."""

    max_upload_bytes: int = 200_000_000
    """Per file; a whole request may hold `max_files` of them."""
    rate_limit_per_minute: int = 600
    """Requests per API key per minute (a token bucket; bursts up to this many)."""
    max_files: int = 10
    max_question_chars: int = 4000
    max_form_fields: int = 16
    """Text fields in one multipart form (a job uses two); more is a 400, counted while parsing."""
    max_field_bytes: int = 65_536
    """Bytes of one text field (the question, a tool's args); more is a 413, before it is buffered."""
    max_attempts: int = 3
    """A job whose worker died this many times while running it is failed, not retried."""
    workers: int = 2
    """Jobs run at once in the service (tools keep their own limits inside)."""
    review_claim_minutes: int = 15
    max_open_claims: int = 5
    """Review claims one reviewer key may hold at once (a sixth is a 409 until one is decided or released)."""
    warm_up: bool = True
    """Load the planner and tools at start, so /readyz means ready to answer fast."""
    database_url: str | None = None
    """A `postgresql://` URL to run on several machines (jobs, keys, checkpoints, artifacts and the
    queue in PostgreSQL); unset: the SQLite file `jimoku.db` in the data folder, workers in-process."""
    database_pool_size: int = 10
    """PostgreSQL connections per process; a worker holds one for each job it is running."""
    worker_heartbeat_seconds: float = 5.0
    """How often a `jimoku worker` tells PostgreSQL it is alive."""
    worker_stalled_seconds: float = 30.0
    """A worker silent this long is taken for dead: its jobs go to another worker."""
    tool_resources: str = "{}"
    """JSON object moving tools to another resource class (queue), e.g. `{"detect": "gpu", "asr": "gpu"}`
    so that `jimoku worker --queues gpu` on the GPU machines runs them."""
    review_apply_wait_seconds: float = 30.0
    """With workers elsewhere, how long a review call waits for a worker to apply the decision
    before it answers with the job still `awaiting_review` (the decision is kept and applied)."""
    step_wait_seconds: float = 600.0
    """How long a job waits for a worker of another resource class to take one of its tool steps."""
    host: str = "127.0.0.1"
    port: int = 8088
    max_tool_calls: int = 4
    """Direct tool calls (`POST /v1/tools/{name}`) running or waiting at once in one API process; one
    more is a 503 with Retry-After (each tool also runs only its own slot count at once; jobs wait
    in the job queue, not here)."""
    tool_retry_after_seconds: int = 10
    """The Retry-After of that 503."""
    max_queued_jobs_per_key: int = 50
    """Jobs of one API key queued or running at once; one more is a 429 with Retry-After."""
    max_stored_bytes_per_key: int = 2_000_000_000
    """Bytes of uploads held for one API key's jobs that are not yet pruned (counted per job);
    a submission that would pass it is a 507 (`jimoku db prune` frees finished jobs' files)."""
    retention_days: float = 90.0
    """Finished jobs' uploaded files and event-log rows older than this are deleted by
    `jimoku db prune` (run it daily, e.g. from cron); 0 keeps everything. Job rows, decisions and
    outcomes (the audit trail) are kept."""

    def tool_context(self) -> ToolContext:
        """The `ToolContext` every tool call in this process gets (same-named settings)."""
        values = {f.name: getattr(self, f.name) for f in fields(ToolContext) if f.name in type(self).model_fields}
        values["extra"] = json.loads(self.tool_extra or "{}")
        return ToolContext(**values)

    def plugin_allowlist(self) -> set[str] | None:
        """Entry-point names allowed to load, or None for all."""
        if not self.plugins:
            return None
        return {p.strip() for p in self.plugins.split(",") if p.strip()}


@lru_cache
def get_settings() -> Settings:
    """Settings of this process (a FastAPI dependency; override it in tests)."""
    return Settings()
