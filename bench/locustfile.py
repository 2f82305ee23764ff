"""Locust load for ``POST /match``: each simulated client sends request texts back to back.

Texts come from ``BENCH_REQUESTS`` (JSON Lines with a ``text`` field; default: the bundled
requests); ``BENCH_READ_KEY`` is sent as ``X-API-Key`` when set. Run through
``bench/http_load.py``, or directly::

    locust -f bench/locustfile.py --headless -u 8 -r 8 -t 30s --host http://127.0.0.1:8000
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from locust import HttpUser, constant, task

ROOT = Path(__file__).resolve().parent.parent
_PATH = Path(os.environ.get("BENCH_REQUESTS", ROOT / "data" / "requests.jsonl"))
_LIMIT = int(os.environ.get("BENCH_MAX_TEXTS", "2000"))


def _texts() -> list[str]:
    texts: list[str] = []
    with open(_PATH, encoding="utf-8-sig") as fh:
        for line in fh:
            if line.strip():
                texts.append(json.loads(line)["text"][:20_000])
            if len(texts) >= _LIMIT:
                break
    return texts


TEXTS = _texts()
HEADERS = {"X-API-Key": os.environ["BENCH_READ_KEY"]} if os.environ.get("BENCH_READ_KEY") else {}


class MatchUser(HttpUser):
    """One client: POST /match, wait for the answer, send the next (closed loop, no think time)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.rng = random.Random(hash(id(self)))

    @task
    def match(self) -> None:
        body = {"text": self.rng.choice(TEXTS), "top_k": 10}
        with self.client.post(
            "/match", json=body, headers=HEADERS, name="POST /match", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif not isinstance(response.json().get("results"), list):
                response.failure("no results list")
