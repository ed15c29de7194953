"""What this machine has, what the lab builds for, and where it differs from the recordings.

* :mod:`labkit.machine.report` -- ``labkit doctor``: Python, packages, the engine, the
  fleet, compilers, the host, the target and the mode;
* :mod:`labkit.machine.target` -- the architecture to build for (the engine's), which
  hello variants are built live for it, and a static busybox for it;
* :mod:`labkit.machine.predict` -- the IDs labkit predicts for that architecture beside
  the recorded amd64 ones;
* :mod:`labkit.machine.differences` -- one line per way this setup differs from the
  recordings, and which lesson values that changes.

Example:
    >>> from labkit import machine
    >>> report = machine.report()
    >>> report.mode in ("live", "offline")
    True
    >>> sorted(report.to_dict())[:3]
    ['compilers', 'differences', 'engine']
"""
from __future__ import annotations

from labkit.machine.differences import RECORDED_ARCH, covered, differences, recorded_majors
from labkit.machine.predict import hello_image, predicted_ids
from labkit.machine.report import COMPILERS, PACKAGES, Report, mode, report
from labkit.machine.target import BUSYBOX_ENV, Busybox, Target, busybox, target

__all__ = ["BUSYBOX_ENV", "COMPILERS", "PACKAGES", "RECORDED_ARCH", "Busybox", "Report", "Target",
           "busybox", "covered", "differences", "hello_image", "mode", "predicted_ids",
           "recorded_majors", "report", "target"]
