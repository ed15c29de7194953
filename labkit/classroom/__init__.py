"""A class server on one machine: a real JupyterHub, a system user per learner, one engine.

- :mod:`~labkit.classroom.server` — :class:`Classroom`: ``up`` / ``down`` / status.
- :mod:`~labkit.classroom.hubconfig` — the Hub's configuration; each learner's environment.
- :mod:`~labkit.classroom.accounts` — the learners' system users.
- :mod:`~labkit.classroom.engines` — an engine per learner instead (isolation; costs memory).
- :mod:`~labkit.classroom.rootless` — a rootless engine per learner, running as the learner.
- :mod:`~labkit.classroom.limits` — pids, memory, CPU and disk limits per learner.
- :mod:`~labkit.classroom.battery` — what a learner's engine lets them do to the machine
  and to the others (the attack battery).
- :mod:`~labkit.classroom.lockstep` — learners in lockstep on one shared engine.
- :mod:`~labkit.classroom.hubapi` — the Hub's REST API: users, tokens, servers.
- :mod:`~labkit.classroom.kernel` — run a notebook top to bottom through a learner's own
  server and kernel (the load test's learner).
- :mod:`~labkit.classroom.procs` — processes and their memory, from ``/proc``.

Everything but the status needs root (``sudo make classroom``); the trust model --
whoever reaches the Docker socket is root on the machine -- is in docs/instructors.md.

Example:
    >>> from labkit import classroom
    >>> classroom.learner_names(2)
    ['labkit-learner-01', 'labkit-learner-02']
"""
from __future__ import annotations

from labkit.classroom.accounts import learner_names
from labkit.classroom.hubapi import Hub, HubError
from labkit.classroom.hubconfig import environment, paths, progress_path
from labkit.classroom.kernel import NotebookRun, run_notebook
from labkit.classroom.limits import Limits
from labkit.classroom.server import DEFAULT_ROOT, Classroom

__all__ = ["DEFAULT_ROOT", "Classroom", "Hub", "HubError", "Limits", "NotebookRun", "environment",
           "learner_names", "paths", "progress_path", "run_notebook"]
