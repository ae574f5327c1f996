"""Fuzz the image and video decoders emolens runs on untrusted input, with hypothesis.

    python scripts/fuzz_decoders.py [--minutes 10] [--media ../shared/media]

Each case is random bytes or a real file from the shared media with bytes flipped, cut or size fields
rewritten; the decoder must answer with an image within the pixel limit, or a MediaError naming the
input, never a crash or another exception. tests/io/test_decoder_fuzz.py runs the same properties for
a few seconds in CI; this script runs them for as long as asked.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emolens.errors import MediaError
from emolens.io.images import decode_image
from emolens.io.sources import VideoFileSource

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
#: A pixel limit low enough that rewritten size fields hit it often, high enough for the media's photos.
FUZZ_MAX_PIXELS = 2_000_000
VIDEO_FRAMES_READ = 3


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """`seed` cut at a random point, with a few bytes overwritten at random offsets (headers included)."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = bytearray(seed[: draw(st.integers(min_value=1, max_value=len(seed)))])
        for _ in range(draw(st.integers(min_value=0, max_value=8))):
            at = draw(st.integers(min_value=0, max_value=min(len(data) - 1, 4096)))
            data[at] = draw(st.integers(min_value=0, max_value=255))
        return bytes(data)

    return build()


def image_cases(media: Path) -> st.SearchStrategy[bytes]:
    seeds = [p.read_bytes() for p in (media / "single_face.jpg", media / "astronaut.png") if p.exists()]
    return st.one_of(st.binary(max_size=4096), *[mutated(seed) for seed in seeds])


def check_image(data: bytes) -> None:
    """The property: an image within the limit, or a MediaError with a one-line message naming the input."""
    try:
        image = decode_image(data, "fuzz.bin", max_pixels=FUZZ_MAX_PIXELS)
    except MediaError as err:
        assert str(err).startswith("fuzz.bin: ") and "\n" not in str(err), str(err)
        return
    assert image.ndim == 3 and image.shape[2] == 3 and image.shape[0] * image.shape[1] <= FUZZ_MAX_PIXELS


def check_video(data: bytes, folder: Path) -> None:
    """The property: frames, an `.error`, or a MediaError naming the file; nothing else."""
    path = folder / "fuzz.mp4"
    path.write_bytes(data)
    try:
        with VideoFileSource(path) as source:
            for index, _frame in enumerate(source):
                if index + 1 >= VIDEO_FRAMES_READ:
                    break
    except MediaError as err:
        assert str(path) in str(err) and "\n" not in str(err), str(err)


def video_seed(media: Path) -> bytes:
    return (media / "single_face.mp4").read_bytes()[:48_000]


def run(seconds: float, media: Path, batch: int = 100) -> tuple[int, int]:
    """Fuzz both decoders for about `seconds` (half each), in batches of `batch` examples; the counts tried."""
    counts = [0, 0]
    fuzz_settings = settings(max_examples=batch, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    folder = Path(tempfile.mkdtemp(prefix="emolens-fuzz-"))

    @fuzz_settings
    @given(image_cases(media))
    def images(data: bytes) -> None:
        counts[0] += 1
        check_image(data)

    @fuzz_settings
    @given(mutated(video_seed(media)))
    def videos(data: bytes) -> None:
        counts[1] += 1
        check_video(data, folder)

    for target in (images, videos):
        stop_at = time.monotonic() + seconds / 2
        target()  # at least one batch
        while time.monotonic() < stop_at:
            target()
    return counts[0], counts[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--media", type=Path, default=MEDIA)
    args = parser.parse_args()
    images, videos = run(args.minutes * 60, args.media)
    print(f"fuzzed {images} images and {videos} videos in {args.minutes:g} min: no crash, no unexpected error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
