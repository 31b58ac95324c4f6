"""``edgescreen-review`` with Python's allocation tracing on, for the ingester's memory test.

The process's resident size also counts what the C allocator keeps after Python has freed it: with
junk payloads of 1 to 8 KB handled on two threads, the ingester's resident size grew by 0 to 2.4 MB
over the same 2,350 messages from run to run, and by 8.4 MB in a CI run (which failed on it); over
9,000 messages its anonymous memory grew by 6 MB while what its objects held stayed at 52.3 MB +- 1 MB.
A leak is what the process still holds, so it is read here: each line on stdin is answered on stdout
with the bytes traced after a full collection (the answering thread only reads; the command runs as
``python -m review_station`` does).
"""

from __future__ import annotations

import gc
import sys
import threading
import tracemalloc

from review_station.cli import main


def _answer_each_line() -> None:
    for _ in sys.stdin:
        gc.collect()
        print(tracemalloc.get_traced_memory()[0], flush=True)


if __name__ == "__main__":
    tracemalloc.start()
    threading.Thread(target=_answer_each_line, daemon=True).start()
    raise SystemExit(main())
