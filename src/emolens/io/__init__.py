"""Media in and out: still images, video files and cameras as sources; JSONL, CSV and video files as sinks."""

from emolens.io.sinks import CsvSink as CsvSink
from emolens.io.sinks import JsonlSink as JsonlSink
from emolens.io.sinks import VideoSink as VideoSink
from emolens.io.sources import CameraSource as CameraSource
from emolens.io.sources import Frame as Frame
from emolens.io.sources import VideoFileSource as VideoFileSource
