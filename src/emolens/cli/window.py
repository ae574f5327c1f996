"""A window to show frames in, for `emolens webcam`: OpenCV's highgui when the installed cv2 has it,
else Tkinter from the standard library (the opencv-python-headless wheel this package depends on has
no highgui). Frames reach Tk as binary PPM, so no Pillow is needed."""

from __future__ import annotations

import logging
import platform
import sys
import time
from typing import Protocol

import cv2
import numpy as np

from emolens.errors import EmolensError

log = logging.getLogger("emolens")

KEY_ESC = 27


class Window(Protocol):
    """What `emolens webcam` needs of a window: show a frame, read keys, notice when the user closes it."""

    def show(self, image_bgr: np.ndarray) -> None:
        """Replace the picture; it appears at the next `poll_key`, which runs the window's events.

        Args:
            image_bgr: the frame, BGR uint8; the window takes its size.
        """
        ...

    def poll_key(self, wait_ms: int = 1) -> int | None:
        """The code of a key pressed since the last call (after up to `wait_ms` of event handling), else None.

        Args:
            wait_ms: how long to run the window's events, in milliseconds; at least 1.

        Returns:
            The key's code (KEY_ESC for Escape, else the character's code point; OpenCV's window keeps its low
            8 bits only), or None.
        """
        ...

    @property
    def is_open(self) -> bool:
        """False once the user closed the window or `close` was called."""
        ...

    def close(self) -> None:
        """Close the window; calling it again does nothing."""
        ...


def open_window(title: str) -> Window:
    """A visible window: OpenCV's highgui where the installed cv2 has it, else Tkinter.

    Args:
        title: the window's title.

    Returns:
        The open window.

    Raises:
        EmolensError: One line, when there is no display to open it on, or this Python has no tkinter.
    """
    if _has_highgui():
        return HighguiWindow(title)
    return TkWindow(title)


def no_tkinter_message() -> str:
    """The one line for a Python without tkinter (Debian's and Ubuntu's python3 lack it until python3-tk is
    installed; a Python built from source lacks it when Tk's headers were missing at build time).

    Returns:
        What is missing, in which Python, and how to get it.
    """
    base = getattr(sys, "_base_executable", sys.executable)  # a venv's own python is a link to this one
    return (
        f"the webcam window needs tkinter, which this Python ({platform.python_version()}, {base}) lacks: "
        "on Debian or Ubuntu `sudo apt install python3-tk`; a Python built from source (pyenv) needs Tk's "
        "headers (tk-dev) when it is built"
    )


def _has_highgui() -> bool:
    try:
        cv2.namedWindow("emolens-probe", cv2.WINDOW_AUTOSIZE)
        cv2.destroyWindow("emolens-probe")
    except cv2.error:
        return False
    return True


class HighguiWindow:
    """A window of OpenCV's highgui (a full opencv-python build, not the headless wheel)."""

    def __init__(self, title: str) -> None:
        self.title = title
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)
        self._open = True

    def show(self, image_bgr: np.ndarray) -> None:
        """See `Window.show`.

        Args:
            image_bgr: the frame, BGR uint8.
        """
        cv2.imshow(self.title, image_bgr)

    def poll_key(self, wait_ms: int = 1) -> int | None:
        """See `Window.poll_key`; also notices a window closed with the mouse.

        Args:
            wait_ms: how long cv2.waitKey runs, in milliseconds; at least 1.

        Returns:
            The key's code masked to 8 bits, or None.
        """
        key = cv2.waitKey(max(1, wait_ms))
        # Closing the window with the mouse makes it invisible rather than sending a key.
        if cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            self._open = False
        return None if key < 0 else key & 0xFF

    @property
    def is_open(self) -> bool:
        """False once the user closed the window or `close` was called."""
        return self._open

    def close(self) -> None:
        """Close the window; calling it again does nothing."""
        if self._open:
            cv2.destroyWindow(self.title)
            self._open = False


class TkWindow:
    """A Tkinter window from the standard library, for OpenCV builds without highgui; frames go in as PPM.

    Raises:
        EmolensError: When this Python has no tkinter, or Tk cannot open a window (no display).
    """

    def __init__(self, title: str) -> None:
        try:
            import tkinter as tk
        except ModuleNotFoundError as err:
            if err.name not in ("tkinter", "_tkinter"):
                raise
            raise EmolensError(no_tkinter_message()) from None

        self._tk = tk
        try:
            self._root = tk.Tk()
        except tk.TclError as err:
            raise EmolensError(f"cannot open a window: {err} (is DISPLAY set?)") from err
        self._root.title(title)
        self._photo = tk.PhotoImage(master=self._root, width=1, height=1)
        self._label = tk.Label(self._root, image=self._photo, borderwidth=0)
        self._label.pack()
        self._keys: list[int] = []
        self._open = True
        self._root.protocol("WM_DELETE_WINDOW", self._on_close)
        self._root.bind("<Key>", self._on_key)
        self._root.update()

    def _on_key(self, event: object) -> None:
        char = getattr(event, "char", "")
        keysym = getattr(event, "keysym", "")
        if keysym == "Escape":
            self._keys.append(KEY_ESC)
        elif char:
            self._keys.append(ord(char[0]))

    def _on_close(self) -> None:
        self.close()

    def show(self, image_bgr: np.ndarray) -> None:
        """See `Window.show`; does nothing once the window is closed.

        Args:
            image_bgr: the frame, BGR uint8.
        """
        if not self._open:
            return
        rgb = np.ascontiguousarray(image_bgr[:, :, ::-1])
        height_px, width_px = rgb.shape[:2]
        ppm = b"P6 %d %d 255\n" % (width_px, height_px) + rgb.tobytes()
        self._photo.configure(data=ppm, format="PPM", width=width_px, height=height_px)

    def poll_key(self, wait_ms: int = 1) -> int | None:
        """See `Window.poll_key`: sleeps `wait_ms`, then runs Tk's pending events once.

        Args:
            wait_ms: milliseconds to sleep before handling events (values up to 1 do not sleep).

        Returns:
            The oldest key not yet returned, or None.
        """
        if self._open:
            try:
                if wait_ms > 1:
                    time.sleep(wait_ms / 1000.0)
                self._root.update()
            except self._tk.TclError:
                self._open = False
        return self._keys.pop(0) if self._keys else None

    @property
    def is_open(self) -> bool:
        """False once the user closed the window or `close` was called."""
        return self._open

    def close(self) -> None:
        """Close the window; calling it again does nothing."""
        if self._open:
            self._open = False
            try:
                self._root.destroy()
            except self._tk.TclError:
                log.debug("window already gone")
