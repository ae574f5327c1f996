"""`emolens analyze`: emotions of the faces in image files or folders of them, as text or JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from emolens.errors import MediaError
from emolens.hints import no_face_hint, video_input_hint
from emolens.io.inputs import expand_image_paths
from emolens.io.media import is_video_name

from .common import add_recognizer_args, add_render_args, recognizer_options, render_options, writable_folder


def add_parser(sub: Any) -> None:
    """Add `emolens analyze` and its flags to the subcommands.

    Args:
        sub: the subparsers of the `emolens` parser.
    """
    p = sub.add_parser("analyze", help="recognise emotions in images", description=__doc__)
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="image files, or folders of them")
    p.add_argument("--json", action="store_true", help="one JSON object per input on stdout")
    p.add_argument("--recursive", "-r", action="store_true", help="look for images in sub-folders of folders too")
    p.add_argument("--out", type=Path, metavar="DIR", help="write annotated copies into DIR")
    p.add_argument("--whole-image", action="store_true", help="each image is already a face crop: no detection")
    add_recognizer_args(p, video=False)
    add_render_args(p)
    from emolens.io.images import DEFAULT_MAX_PIXELS

    p.add_argument(
        "--max-pixels",
        type=_positive_int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="refuse images whose header declares more pixels (default %(default)s)",
    )
    p.set_defaults(run=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    """Analyse each image (files, folders, globs), printing one result per input as it is done.

    An input that cannot be read or decoded gets a one-line error and the others are still processed.

    Args:
        args: the parsed flags.

    Returns:
        0, or 1 when any input failed or its annotated copy could not be written.

    Raises:
        EmolensError: If --out is not a writable folder, or the model cannot be loaded.
        ValueError: If an option is out of range.
    """
    from emolens.api import Recognizer
    from emolens.io.images import read_image

    if args.out:
        writable_folder(args.out, "--out")  # before the model loads: a bad --out costs nothing
    max_pixels = args.max_pixels
    recognizer = Recognizer(recognizer_options(args, whole_image=args.whole_image))
    atlas = None
    drawing = render_options(args)
    if args.out:
        from emolens.render import load_label_atlas

        atlas = load_label_atlas()  # once, not per image
    written: set[Path] = set()
    failures = 0
    for path, problem in expand_image_paths(args.paths, recursive=args.recursive):
        try:
            if problem:
                raise MediaError(f"{path}: {problem}")
            image = read_image(path, max_pixels=max_pixels)
            result = recognizer.analyze(image)
        except MediaError as err:
            failures += 1
            hint = video_input_hint(path) if is_video_name(path) else None
            _report(path, MediaError(f"{err} ({hint})") if hint else err, args.json)
            continue
        # The result is out before the annotated copy is written: a full disk must not lose it.
        if args.json:
            _emit({"path": str(path), "faces": [face.to_dict() for face in result.faces]})
        else:
            _print_text(path, result, args.lang, image.shape[:2])
        if args.out:
            try:
                _write_annotated(image, result, path, args.out, args.lang, atlas, written, drawing)
            except MediaError as err:
                failures += 1
                print(f"emolens: error: {err}", file=sys.stderr)
    return 1 if failures else 0


def _report(path: Path, err: MediaError, as_json: bool) -> None:
    message = _printable(str(err))
    if as_json:
        _emit({"path": str(path), "error": message})
    else:
        print(f"emolens: error: {message}", file=sys.stderr)


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def _emit(obj: dict[str, object]) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _print_text(path: Path, result: Any, lang: str, size_px: tuple[int, int]) -> None:
    from emolens.labels import display_name

    if not result.faces:
        hint = no_face_hint(*size_px)
        print(f"{path}: no face found" + (f" ({hint})" if hint else ""))
    for number, face in enumerate(result.faces, start=1):
        box = ",".join(map(str, face.box.xyxy()))
        print(f"{path}: face {number} at [{box}]: {display_name(face.emotion, lang)} {face.confidence:.0%}")


def _write_annotated(
    image: Any, result: Any, path: Path, out_dir: Path, lang: str, atlas: Any, written: set[Path], drawing: Any
) -> None:
    import cv2

    from emolens.io.media import WRITABLE_IMAGE_SUFFIXES
    from emolens.render import annotate

    suffix = path.suffix.lower() if path.suffix.lower() in WRITABLE_IMAGE_SUFFIXES else ".png"
    target = out_dir / f"{path.stem}{suffix}"
    counter = 2
    while target in written:  # two inputs with one name (from different folders) must not overwrite each other
        target = out_dir / f"{path.stem}-{counter}{suffix}"
        counter += 1
    if target.resolve() == path.resolve():
        raise MediaError(f"{path}: --out would overwrite the input itself; choose another folder")
    try:
        ok = cv2.imwrite(str(target), annotate(image, result, lang=lang, atlas=atlas, labels_only=drawing.labels_only))
    except cv2.error:
        ok = False
    if not ok:
        raise MediaError(f"{target}: could not write the annotated image (folder read-only or disk full?)")
    written.add(target)
