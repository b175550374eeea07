"""Profiling reports: ``edgemef profile``.

- :mod:`~edgemef.profile.measure`: per-stage and end-to-end latency, memory, sweep, on this machine;
- :mod:`~edgemef.profile.operators`: per-operator profiles from the runtimes' own profilers;
- :mod:`~edgemef.profile.claims`: the papers' latency claims and their verdicts;
- :mod:`~edgemef.profile.schema`: the report's JSON schema (also what device runners write);
- :mod:`~edgemef.profile.html`: the self-contained HTML page.
"""

from edgemef.profile.html import render
from edgemef.profile.measure import profile
from edgemef.profile.schema import REPORT_SCHEMA, SCHEMA_VERSION

__all__ = ["REPORT_SCHEMA", "SCHEMA_VERSION", "profile", "render"]
