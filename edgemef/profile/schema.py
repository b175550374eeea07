"""The profile report's JSON schema (version 2): what ``edgemef profile`` writes and the HTML renders.

Figures measured elsewhere (the Android demo's benchmark mode, the Raspberry Pi runner) are rendered by the
same code if they write this shape. ``machine.kind`` says where the figures come from: ``"desktop"`` (a PC or
server, e.g. this project's CI machine), ``"raspberry-pi"``, ``"android-device"``, ``"android-emulator"``,
``"ios-device"``, ``"ios-simulator"``; paper claims are only judged against figures of the same kind of
machine.

All times are milliseconds. ``stages`` and ``end_to_end`` hold every run (``runs_ms``) and their summary.
Every report has the ``decode`` and ``encode`` stages; between them come the model family's own
(its declaration's ``profile_stages``: :func:`report_stages`).
Device runners may add stages of their own (the Pi runner's ``capture``, ``align``).
``artifact.settings`` says what the family bakes into the artifact ("grid 33", "tiles 256").
``operators`` is the runtime's own per-operator profile (ExecuTorch ETDump, onnxruntime's profiler) or
``{"available": false, "why": ...}``; ``total_ms`` is the sum of the top-level events of one inference
(what the per-operator figures add up to), ``inference_ms`` the runtime's own time of that inference.
"""

from __future__ import annotations

SCHEMA_VERSION = 2

_SUMMARY = {
    "type": "object",
    "required": ["median_ms", "p90_ms", "min_ms", "max_ms", "runs_ms"],
    "properties": {
        "median_ms": {"type": "number", "minimum": 0},
        "p90_ms": {"type": "number", "minimum": 0},
        "min_ms": {"type": "number", "minimum": 0},
        "max_ms": {"type": "number", "minimum": 0},
        "runs_ms": {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1},
    },
}


def report_stages(family: str) -> tuple[str, ...]:
    """A report's stages for an artifact of ``family``, in order."""
    from edgemef.models.registry import get_family

    return ("decode", *get_family(family).profile_stages, "encode")


REPORT_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "edgemef profile report",
    "type": "object",
    "required": [
        "schema_version",
        "artifact",
        "machine",
        "resolution",
        "runs",
        "threads",
        "stages",
        "end_to_end",
        "memory",
        "operators",
        "claims",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "created": {"type": "string"},
        "artifact": {
            "type": "object",
            "required": [
                "file",
                "model",
                "family",
                "backend",
                "precision",
                "settings",
                "n_exposures",
                "size_bytes",
            ],
            "properties": {
                "file": {"type": "string"},
                "model": {"type": "string"},
                "backend": {"type": "string"},
                "precision": {"type": "string"},
                "family": {"type": "string"},
                "settings": {"type": "string"},
                "n_exposures": {"type": "integer"},
                "size_bytes": {"type": "integer", "minimum": 1},
                "delegation": {"type": ["object", "null"]},
            },
        },
        "machine": {
            "type": "object",
            "required": ["kind", "description"],
            "properties": {"kind": {"type": "string"}, "description": {"type": "string"}},
        },
        "resolution": {
            "type": "array",
            "items": {"type": "integer", "minimum": 1},
            "minItems": 2,
            "maxItems": 2,
        },
        "runs": {"type": "integer", "minimum": 1},
        "threads": {"type": "integer", "minimum": 1},
        "stages": {
            "type": "object",
            "required": ["decode", "encode"],
            "additionalProperties": _SUMMARY,
        },
        "end_to_end": _SUMMARY,
        "memory": {
            "type": "object",
            "required": ["peak_traced_bytes", "max_rss_bytes", "input_bytes"],
            "properties": {
                "peak_traced_bytes": {"type": "integer", "minimum": 0},
                "max_rss_bytes": {"type": "integer", "minimum": 0},
                "input_bytes": {"type": "integer", "minimum": 0},
            },
        },
        "operators": {
            "type": "object",
            "required": ["available"],
            "properties": {
                "available": {"type": "boolean"},
                "source": {"type": "string"},
                "why": {"type": "string"},
                "inference_ms": {"type": "number"},
                "total_ms": {"type": "number"},
                "top": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "median_ms", "delegated"],
                        "properties": {
                            "name": {"type": "string"},
                            "median_ms": {"type": "number", "minimum": 0},
                            "delegated": {"type": "boolean"},
                            "count": {"type": "integer"},
                        },
                    },
                },
            },
        },
        "sweep": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["resolution", "end_to_end_median_ms", "stages_median_ms"],
                "properties": {
                    "stages_median_ms": {"type": "object", "additionalProperties": {"type": "number"}},
                },
            },
        },
        "claims": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["source", "claim", "claimed_ms", "device_kind", "verdict"],
                "properties": {
                    "source": {"type": "string"},
                    "claim": {"type": "string"},
                    "claimed_ms": {"type": "number"},
                    "device_kind": {"type": "string"},
                    "measured_ms": {"type": ["number", "null"]},
                    "verdict": {"type": "string"},
                },
            },
        },
    },
}
