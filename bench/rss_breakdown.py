"""Where the screening process's RSS goes, per file, and why a just-installed venv reads ~40 MB more.

The process is ``bench/screen_path.py``'s cold-start worker (both models loaded, one screen each);
then its RSS in two parts, the process's own memory (RssAnon) and the files mapped in (RssFile),
and the files whose mappings hold the most (smaps' Rss, private copies of their data included).
Run as root, each file's mapped pages are also split by the page-cache folio holding them
(``/proc/self/pagemap`` and ``/proc/kpageflags``): single pages, or large folios.

Why the split matters: a page fault on a file maps every page of the folio it falls in (and its
fault-around neighbours). Where the kernel caches files in large folios (ext4 since Linux 6.16),
files just written by pip, or read through sequentially, sit in large folios, so the same libraries
map several times the pages: OpenCV's 28 MB against 7.5 MB once its pages came back one by one
through the loader's faults, as on a device restarted since its install. Those pages are the page
cache's, shared and reclaimable, not the process's own memory. ``--drop-cache`` shows it: it first
drops this venv's files from the page cache (``posix_fadvise(DONTNEED)``, clean pages nothing maps:
no data is touched), so that the worker's faults bring them back page by page.

    .venv/bin/python bench/rss_breakdown.py [--top 12] [--drop-cache]
"""

from __future__ import annotations

import argparse
import contextlib
import io
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

    from bench.screen_path import cold_start_worker, process_memory_mb

    with contextlib.redirect_stdout(io.StringIO()):
        pipeline = cold_start_worker()
    memory = process_memory_mb()
    mappings = file_mappings()
    models = ", ".join(pipeline.model(modality).card.id for modality in ("fundus", "dermoscopy"))
    print(
        f"{sys.prefix}: RSS with both models loaded ({models}), after one screen each: {memory['VmRSS']:.1f} MB: "
        f"{memory['RssAnon']:.1f} MB the process's own, {memory['RssFile']:.1f} MB of files mapped in"
    )
    rss = Counter({name: sum(r for _, _, r in ranges) for name, ranges in mappings.items()})
    print(f"{'MB':>6} {'large folios':>12}  file")
    for name, size in rss.most_common(args.top):
        large = large_folio_bytes(mappings[name])
        share = "needs root" if large is None else f"{large / 2**20:.1f}"
        print(f"{size / 2**20:6.1f} {share:>12}  {name}")
    print(f"{sum(rss.values()) / 2**20:6.1f} {'':>12}  all {len(rss)} files (their private copies included)")


if __name__ == "__main__":
    main()
