"""What grading one submission produced, from the worker to the parent, the summary and `run.json`.

A `Result` crosses a process boundary (pickled by multiprocessing between
trusted processes only; never written by a kernel). `run.json` keeps its
format: one object per result with the fields of `Result.to_json()`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from ..course import safe_url

# Where one notebook's time goes (seconds), as the worker measures it.
PHASES = ("kernel_start", "cells", "kernel_stop", "judge_and_rest", "database", "feedback")


@dataclass
class Result:
    """One (student, assignment) graded, or not.

    ok: autograde and feedback ran; error: why not (one line), else None.
    trouble: kernel events while it ran (recovering.take_events: timeouts, deaths; the notebook was graded).
    data: the grades autograde wrote (`gradebooks.submission_data`), merged by the parent, never logged.
    score, max_score: what the merge wrote to the main gradebook (None until merged).
    """
    student: str
    assignment: str
    ok: bool = True
    error: str | None = None
    trouble: list = field(default_factory=list)
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)
    worker: int | None = None
    peak_rss_mb: float | None = None
    data: dict | None = None
    score: float | None = None
    max_score: float | None = None

    @classmethod
    def _names(cls):
        return {f.name for f in fields(cls)}

    @classmethod
    def failed(cls, student, assignment, error, seconds=0.0):
        return cls(student, assignment, ok=False, error=error, seconds=seconds)

    @classmethod
    def from_json(cls, data):
        return cls(**{k: v for k, v in data.items() if k in cls._names()})

    def to_json(self, with_data=True):
        """Plain data; run.json's fields (student, assignment, ok, error, trouble, seconds, phases, worker, peak_rss_mb)."""
        out = asdict(self)
        for name in ("score", "max_score") + (() if with_data else ("data",)):
            out.pop(name)
        return out


@dataclass
class Summary:
    results: list = field(default_factory=list)
    wall: float = 0.0
    jobs: int = 1
    shard: tuple = (1, 1)
    db_url: str = ""
    inputs_seed: str = ""  # the course seed the hidden inputs were drawn from (cases.drawing); "" when none

    @property
    def failures(self):
        return [r for r in self.results if not r.ok or r.trouble]

    def to_json(self):
        return {"wall": self.wall, "jobs": self.jobs, "shard": list(self.shard), "db_url": safe_url(self.db_url),
                "inputs_seed": self.inputs_seed,
                "results": [r.to_json(with_data=False) for r in self.results]}
