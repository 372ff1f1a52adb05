"""Lesson mode (issue 26): lesson files, the guided mode, and the class store.

- `app.lessons.lesson`: a lesson file (TOML, en and ko side by side) read into frozen records, with errors that name
  the line and what is wrong; `first-vit.toml` is the shipped lesson (docs/LESSONS.md).
- `app.lessons.store`: what a class led by a presenter shares across every replica of the app (SQLite or Redis).

Neither imports streamlit or torch, so that tests and benchmarks use them directly. The answers to a lesson's
questions are computed by `vit_core.questions` from each learner's own picture and model. The pages of the guided
mode and of the class come later.
"""
