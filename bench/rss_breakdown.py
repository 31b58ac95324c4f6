"""Where the screening process's RSS goes, per step and per file, and why a just-installed venv
reads about 40 MB more than a long-lived one.

The work of ``bench/screen_path.py``'s cold-start worker (its imports, both models, one screen of
each bundled sample; the models loaded first here, so that each step's share shows), with the
memory after each step in two parts, the process's own (RssAnon) and the files mapped in
(RssFile); then the files whose mappings hold the most (smaps' Rss). Run as root, each file's
mapped pages are also split by the page-cache folio holding them (``/proc/self/pagemap`` and
``/proc/kpageflags``): single pages or large folios.

Why the split matters: a page fault on a file maps every page of the folio it falls in (and its
fault-around neighbours). Where the kernel caches files in large folios (ext4 since Linux 6.16),
files just written by pip, or read through, sit in large folios, so the same libraries map several
times the pages: OpenCV's 43 MB against 15 MB once its pages came back one by one through the
loader's faults, as on a machine restarted since its install. Those pages are the page cache's,
shared and reclaimable, not the process's own memory. ``--drop-cache`` shows it: it first drops
this venv's files from the page cache (``posix_fadvise(DONTNEED)``: clean pages that no process
maps; no file is changed), so that the steps' faults bring them back page by page.

    .venv/bin/python bench/rss_breakdown.py [--top 12] [--drop-cache]
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from collections import Counter, defaultdict
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

PAGE = os.sysconf("SC_PAGE_SIZE")
PRESENT = 1 << 63
PFN_MASK = (1 << 55) - 1
COMPOUND = (1 << 15) | (1 << 16)  # KPF_COMPOUND_HEAD | KPF_COMPOUND_TAIL: part of a large folio


def drop_from_page_cache(tree: Path) -> int:
    """Ask the kernel to drop ``tree``'s files from its page cache; how many files were asked."""
    count = 0
    for path in tree.rglob("*"):
        if path.is_file() and not path.is_symlink():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)
            count += 1
    return count


def file_mappings() -> dict[str, list[tuple[int, int, int]]]:
    """Each mapped file's mappings: (start, end, Rss in bytes), from /proc/self/smaps."""
    mappings: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    current: tuple[str, int, int] | None = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if not fields[0].endswith(":"):
            name = fields[5] if len(fields) > 5 else ""
            start, end = (int(address, 16) for address in fields[0].split("-"))
            current = (name, start, end) if name.startswith("/") else None
        elif fields[0] == "Rss:" and current is not None:
            mappings[current[0]].append((current[1], current[2], int(fields[1]) * 1024))
    return mappings


def large_folio_bytes(ranges: list[tuple[int, int, int]]) -> int | None:
    """How many of these mapped bytes sit in large folios; ``None`` when the kernel does not say
    (page frame numbers and page flags are readable by root only)."""
    try:
        with (
            open("/proc/self/pagemap", "rb", buffering=0) as pagemap,
            open("/proc/kpageflags", "rb", buffering=0) as flags,
        ):
            large = 0
            for start, end, _ in ranges:
                pagemap.seek(start // PAGE * 8)
                pages = (end - start) // PAGE
                for entry in struct.unpack(f"<{pages}Q", pagemap.read(pages * 8)):
                    if not entry & PRESENT:
                        continue
                    if not entry & PFN_MASK:
                        return None
                    flags.seek((entry & PFN_MASK) * 8)
                    large += PAGE * bool(struct.unpack("<Q", flags.read(8))[0] & COMPOUND)
            return large
    except PermissionError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=int, default=12, help="files listed")
    parser.add_argument("--drop-cache", action="store_true", help="first drop this venv's files from the page cache")
    args = parser.parse_args()
    if args.drop_cache:
        # Before anything of the venv is imported: a page some process maps is not dropped.
        print(f"dropped {drop_from_page_cache(Path(sys.prefix))} files of {sys.prefix} from the page cache")

    from bench.screen_path import process_memory_mb, sample_photos
    from firmware_app.app import build_pipeline
    from firmware_app.capture.image_file import read_frame
    from firmware_app.config import Config
    from firmware_app.inference.card import MODALITIES

    stages = [("imports (the bench's: Python, numpy, OpenCV, the project)", process_memory_mb())]
    pipeline = build_pipeline(Config())
    for modality in MODALITIES:
        pipeline.model(modality)
        stages.append((f"{modality} model loaded and verified", process_memory_mb()))
    photos = sample_photos()
    for modality in MODALITIES:
        pipeline.screen(read_frame(photos[modality]), modality)
        stages.append((f"{modality} sample screened", process_memory_mb()))

    print(f"{sys.prefix}, MB after each step: the process's own (RssAnon), the files mapped in (RssFile)")
    previous = {"RssAnon": 0.0, "RssFile": 0.0}
    for name, memory in stages:
        own, files = memory["RssAnon"], memory["RssFile"]
        added_own, added_files = own - previous["RssAnon"], files - previous["RssFile"]
        print(f"  {own:6.1f} ({added_own:+5.1f})  {files:6.1f} ({added_files:+5.1f})  {name}")
        previous = memory
    print(f"  RSS {stages[-1][1]['VmRSS']:.1f} MB, peak {stages[-1][1]['peak']:.1f} MB")

    mappings = file_mappings()
    rss = Counter({name: sum(r for _, _, r in ranges) for name, ranges in mappings.items()})
    print(f"{'MB':>6} {'large folios':>12}  file (Rss of its mappings, its private copies included)")
    for name, size in rss.most_common(args.top):
        large = large_folio_bytes(mappings[name])
        share = "needs root" if large is None else f"{large / 2**20:.1f}"
        print(f"{size / 2**20:6.1f} {share:>12}  {name}")
    print(f"{sum(rss.values()) / 2**20:6.1f} {'':>12}  all {len(rss)} files")


if __name__ == "__main__":
    main()
