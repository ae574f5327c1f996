"""Digests of what users get from the shared media, to show a refactor changed no output.

    PYTHONPATH=<checkout>/src python scripts/output_digests.py [--media ../shared/media] [--json digests.json]

Runs the emolens that this Python imports (point PYTHONPATH at another checkout's src, or a `git worktree` of an
older commit, to digest that one) through its command line and its real server:

- `emolens video CLIP --jsonl --csv` for each shared clip: the sha256 of each file as written;
- `emolens batch` over every shared photo and clip: the sha256 of the face rows (every column, sorted by source,
  frame and face) and of the sources rows without `wall_s`, the one column that is a timing;
- `emolens serve`: the sha256 of the JSON body of POST /api/v1/analyze-video for each clip and of
  POST /api/v1/analyze for each photo.

Prints one line per output (name, 16 hex digits); `--json` also writes them to a file, and `--compare A.json
B.json` prints which differ. Two runs of the same code give the same digests; so must a change that claims to
keep the outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from serving import EMOLENS, start_server  # noqa: E402  (the benchmarks' real-server starter)

CLIPS = ("single_face.mp4", "no_face.mp4", "face_noface.mov", "WolfgangLanger_Pexels.mp4")
PHOTOS = ("single_face.jpg", "multi_face.jpg", "obama.jpg", "biden.jpg", "astronaut.png")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def video_digests(media: Path, work: Path) -> dict[str, str]:
    digests = {}
    for clip in CLIPS:
        jsonl, csv = work / f"{clip}.jsonl", work / f"{clip}.csv"
        subprocess.run([*EMOLENS, "video", str(media / clip), "--jsonl", str(jsonl), "--csv", str(csv)],
                       check=True, capture_output=True)  # fmt: skip
        digests[f"video {clip} jsonl"] = sha(jsonl.read_bytes())
        digests[f"video {clip} csv"] = sha(csv.read_bytes())
    return digests


def batch_digests(media: Path, work: Path) -> dict[str, str]:
    import pyarrow.parquet as pq

    out = work / "batch"
    inputs = [str(media / name) for name in (*PHOTOS, *CLIPS)]
    subprocess.run([*EMOLENS, "batch", "--out", str(out), "--workers", "1", *inputs], check=True, capture_output=True)
    faces = pq.read_table(out / "faces").to_pylist()
    faces.sort(key=lambda row: (row["source"], row["frame"], json.dumps(row, sort_keys=True, default=str)))
    sources = pq.read_table(out / "sources.parquet").to_pylist()
    for row in sources:
        row.pop("wall_s", None)
    sources.sort(key=lambda row: row["source"])
    return {
        "batch faces rows": sha(json.dumps(faces, sort_keys=True, default=str).encode()),
        "batch sources rows (no wall_s)": sha(json.dumps(sources, sort_keys=True, default=str).encode()),
    }


def rest_digests(media: Path, work: Path) -> dict[str, str]:
    import httpx

    url, server = start_server(["--workers", "2"], log=work / "serve.log")
    digests = {}
    try:
        with httpx.Client(base_url=url, timeout=300) as client:
            for clip in CLIPS:
                with (media / clip).open("rb") as fh:
                    response = client.post("/api/v1/analyze-video", files={"file": (clip, fh)})
                response.raise_for_status()
                digests[f"REST analyze-video {clip}"] = sha(response.content)
            for photo in PHOTOS:
                with (media / photo).open("rb") as fh:
                    response = client.post("/api/v1/analyze", files={"file": (photo, fh)})
                response.raise_for_status()
                digests[f"REST analyze {photo}"] = sha(response.content)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return digests


def compare(before: Path, after: Path) -> int:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    differ = [name for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]
    for name in differ:
        print(f"differs: {name}: {a.get(name)} -> {b.get(name)}")
    print(f"{len(set(a) | set(b)) - len(differ)} same, {len(differ)} different")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--json", type=Path, help="also write the digests here")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"), help="compare two --json files")
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    with tempfile.TemporaryDirectory(prefix="emolens-digests-") as tmp:
        work = Path(tmp)
        digests = video_digests(args.media, work) | batch_digests(args.media, work) | rest_digests(args.media, work)
    for name, digest in digests.items():
        print(f"{digest}  {name}")
    if args.json:
        args.json.write_text(json.dumps(digests, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
