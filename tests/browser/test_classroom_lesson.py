"""benchmarks/classroom.py --lesson, end to end, so that it cannot rot: a presenter and two learners through `make
serve-class` (two replicas and HAProxy) for two beats, the first with a question. The figures are the benchmark's to
print; this checks only that the run went through: its line for scripts, no errors, no lost answers, every learner
followed to the end and every answer counted."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT

LINE = re.compile(r"^lesson N = 2: upload p95 (\d+) ms, beat p95 (\d+) ms, answer p95 (\S+) ms, errors (\d+), "
                  r"lost answers (\d+)$", re.M)


def test_lesson_benchmark_runs_end_to_end(tmp_path):
    env = {**os.environ, "VIT_CLASS_STORE": f"sqlite:///{tmp_path}/class-store.sqlite3"}
    done = subprocess.run([sys.executable, "benchmarks/classroom.py", "--lesson", "--sessions", "2", "--beats", "2",
                           "--ramp", "1", "--think", "0.5", "--dwell", "0.5", "--timeout", "60"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    found = LINE.search(done.stdout)
    assert found, out
    assert found[4] == "0" and found[5] == "0", out  # no errors, no lost answers
    assert "2/2 learners followed to the end" in done.stdout, out
    assert "presenter's key to a learner's screen (1 keys × 2 learners, 2 seen)" in done.stdout, out
