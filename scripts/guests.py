"""Where the benchmark scripts find the project and the pinned guest images."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def guests_dir():
    """$MIPSJIT_GUESTS, else ../shared/guests beside the project, else build/guests."""
    d = os.environ.get("MIPSJIT_GUESTS")
    if d:
        return d
    shared = os.path.join(ROOT, "..", "shared", "guests")
    return shared if os.path.isdir(shared) else os.path.join(ROOT, "build", "guests")
