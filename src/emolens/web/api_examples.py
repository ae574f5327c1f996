"""Example answers of the REST routes, shown in /docs and /openapi.json; a test checks that they have
the same keys as real answers, so they cannot drift from the code."""

from __future__ import annotations

from typing import Any

_PROBS = {"angry": 0.01, "disgust": 0.0, "fear": 0.02, "happy": 0.91, "sad": 0.01, "surprise": 0.01, "neutral": 0.04}
#: The CNN detector's five points (docs/outputs.md); null with Haar, and on video frames between detector runs.
_LANDMARKS = {
    "eye_l": [456.5, 152.0], "eye_r": [527.0, 150.5], "nose": [492.0, 190.25],
    "mouth_l": [463.0, 222.5], "mouth_r": [520.5, 221.0],
}  # fmt: skip
_FACE = {"box": [412, 96, 571, 255], "score": 0.97, "emotion": "happy", "probs": _PROBS, "landmarks": _LANDMARKS}

#: POST /api/v1/analyze (`score` is null with the Haar detector, which has no calibrated confidence).
#: `path` names the input as the command line's `analyze --json` does;
#: `file` holds the same name for clients written before `path` (deprecated).
ANALYZE: dict[str, Any] = {"path": "team.jpg", "file": "team.jpg", "faces": [_FACE]}

#: POST /api/v1/analyze-video: one entry per frame, each face with the id of its track.
ANALYZE_VIDEO: dict[str, Any] = {
    "path": "clip.mp4",
    "file": "clip.mp4",
    "fps": 25.0,
    "frame_count": 2,
    "frames_analyzed": 2,
    "track_ids": [1],
    "error": None,
    "frames": [
        {"frame": 0, "time_s": 0.0, "faces": [{**_FACE, "track_id": 1}]},
        {"frame": 1, "time_s": 0.04, "faces": [{**_FACE, "track_id": 1, "landmarks": None}]},
    ],
}

#: Every error, whatever its status.
ERROR: dict[str, Any] = {"error": "notes.jpg: not a readable image (corrupt, truncated or not an image format)"}


def ok_response(example: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """FastAPI's `responses=` entry for a 200 answer shaped like `example`.

    Args:
        example: a JSON body as the route returns it (one of this module's constants).

    Returns:
        {200: description and the example}, to merge with the error entries.
    """
    return {200: {"description": "the result", "content": {"application/json": {"example": example}}}}
