"""Where the time goes when emolens analyses a video, and the end-to-end frame rate, old default against new.

    python benchmarks/bench_video.py [VIDEO] [--runs 3] [--model fast] [--threads 1] [--configs NAME ...]
                                     [--outputs jsonl h264] [--yuface]

Each configuration runs `emolens.video.analyze_video` (what `emolens video` runs after loading the model)
over the whole clip, `--runs` times with each of two outputs: JSONL only (`--jsonl`), and an annotated H.264
file (`--out a.mp4`, the encoder in its own ffmpeg process). Printed per configuration and output: the median
over the runs of each stage's milliseconds per frame (VideoReport.stage_seconds: decode in its read-ahead
thread, detect, follow, track, classify = crop + preprocess + onnxruntime, smooth, draw, encode = handing
frames to ffmpeg and waiting for it at the end, write = JSONL), the median end-to-end frames/s, its ratio to
the first configuration's median of the same run, the share of frames with a face and the track ids.
`--yuface` adds "default on yuface": the defaults with the CNN on yuface's compiled library, as emolens ran it
before the ONNX file (benchmarks/yuface_reference.py; needs yuface installed).

Decoding and encoding overlap the Python loop where a core is free, so end-to-end fps can beat 1000 / (sum
of the stages). The machine is shared: compare ratios within one run, not figures across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from emolens.api import Recognizer, RecognizerOptions
from emolens.video import STAGES, analyze_video

DEFAULT_VIDEO = Path(__file__).resolve().parents[1].parent / "shared" / "media" / "WolfgangLanger_Pexels.mp4"
OUTPUTS = ("jsonl", "h264")


@dataclass(frozen=True)
class Config:
    name: str
    #: RecognizerOptions fields that differ from the defaults.
    options: dict[str, object] = field(default_factory=dict)


CONFIGS = (
    # What `emolens video` did before issue #20: Haar on the full 640 px frame every 3rd frame, boxes reused
    # in between, every box reported at once.
    Config(
        "old CLI default",
        {
            "detector": "haar",
            "detector_max_side_px": 640,
            "min_face_px": 40,
            "detect_every": 3,
            "follow": False,
            "min_hits": 1,
        },
    ),
    Config("default"),
    Config("default, detect every frame", {"detect_every": 1}),
    Config("default, boxes reused", {"follow": False}),
    Config("default with Haar", {"detector": "haar"}),
)


def run_once(recognizer: Recognizer, video: Path, output: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "a.jsonl"
        if output == "jsonl":
            report = analyze_video(recognizer, video, jsonl_path=jsonl)
        else:
            report = analyze_video(recognizer, video, annotated_path=Path(tmp) / "a.mp4")
        with_face = report.frames
        if output == "jsonl":
            with_face = sum(1 for line in jsonl.open(encoding="utf-8") if json.loads(line)["faces"])
    per_frame = {s: 1000.0 * report.stage_seconds.get(s, 0.0) / max(report.frames, 1) for s in STAGES}
    return per_frame | {
        "fps": report.fps,
        "frames": report.frames,
        "face_share": with_face / max(report.frames, 1),
        "tracks": len(report.track_ids),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration and output (medians shown)")
    parser.add_argument("--threads", type=int, default=RecognizerOptions.threads, help="onnxruntime threads")
    parser.add_argument("--model", default=RecognizerOptions.model, help="shipped model name or an .onnx path")
    parser.add_argument("--configs", nargs="+", help="names of the configurations to run (default: all)")
    parser.add_argument("--outputs", nargs="+", choices=OUTPUTS, default=list(OUTPUTS), help="outputs to time")
    parser.add_argument("--yuface", action="store_true", help="also the defaults on yuface's library (before)")
    args = parser.parse_args()
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    configs = [c for c in CONFIGS if not args.configs or c.name in args.configs]
    recognizers = {
        c.name: Recognizer(RecognizerOptions.from_flat(**(c.options | {"model": args.model, "threads": args.threads})))
        for c in configs
    }
    if args.yuface:
        from yuface_reference import YufaceDetector

        before = Config("default on yuface")
        configs.append(before)
        recognizers[before.name] = Recognizer(RecognizerOptions(model=args.model, threads=args.threads))
        o = recognizers[before.name].options
        recognizers[before.name].detector = YufaceDetector(o.min_face_px, o.detector_max_side_px, o.min_score)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(args.runs):  # configurations interleaved, so that load on the machine hits them alike
        for output in args.outputs:
            for cfg in configs:
                results.setdefault((cfg.name, output), []).append(run_once(recognizers[cfg.name], args.video, output))
    defaults = RecognizerOptions()
    print(f"video: {args.video.name}; CPU cores: {os.cpu_count()}; runs: {args.runs}; load average at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"defaults: detector {defaults.detector}, detector side {defaults.detector_max_side_px} px, min face "
          f"{defaults.min_face_px} px, detect every {defaults.pipeline.detect_every}, "
          f"follow {defaults.pipeline.follow}, min_hits {defaults.pipeline.min_hits}")  # fmt: skip
    header = ["configuration", "output", *(f"{s} ms" for s in STAGES), "sum ms", "fps (median)", "fps runs",
              "x first", "face on frames", "tracks"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for output in args.outputs:
        base = [r["fps"] for r in results[(configs[0].name, output)]]
        for cfg in configs:
            runs = results[(cfg.name, output)]
            med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            ratio = statistics.median(r["fps"] / b for r, b in zip(runs, base, strict=True))
            cells = [cfg.name, output, *(f"{med[s]:.2f}" for s in STAGES), f"{sum(med[s] for s in STAGES):.2f}",
                     f"**{med['fps']:.1f}**", " / ".join(f"{r['fps']:.0f}" for r in runs), f"{ratio:.2f}",
                     "-" if output != "jsonl" else f"{med['face_share']:.2%}", f"{med['tracks']:.0f}"]  # fmt: skip
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
