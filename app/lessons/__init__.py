"""Lesson mode (issue 26): lesson files, the guided mode, and the class store.

So far only the class store is here (`app.lessons.store`): what a class led by a presenter shares across every
replica of the app. It imports neither streamlit nor torch, so that tests and benchmarks use it directly.
"""
