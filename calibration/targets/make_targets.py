"""Write the printable calibration targets (SVG, sizes in millimetres) and the chart's reference table.

    python calibration/targets/make_targets.py [OUTPUT_DIR]

Print the SVGs at 100% (no "fit to page"), on matte paper, and check the printed size with the
ruler on each target before use. The colour chart's printed colours are only an approximation of
the reference (printers are not colorimetric): for a real colour calibration, photograph an X-Rite /
Calibrite ColorChecker Classic (or Mini/Nano with the same 24-patch layout and proportions) and use
the printed layout only to learn the procedure.
"""

from __future__ import annotations

import sys
from pathlib import Path

from firmware_app.calibration.colour_chart import LAYOUT, PATCH_NAMES, REFERENCE_LAB_D50, REFERENCE_SRGB8

HERE = Path(__file__).resolve().parent
CHECKERBOARD = {"inner_corners": (9, 6), "square_mm": 2.5}
SCALE_SQUARE_MM = 10.0
CHART_PITCH_MM = 8.0


def _svg(width_mm: float, height_mm: float, body: list[str], title: str) -> str:
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm:g}mm" height="{height_mm:g}mm" '
            f'viewBox="0 0 {width_mm:g} {height_mm:g}">',
            f"<title>{title}</title>",
            f'<rect width="{width_mm:g}" height="{height_mm:g}" fill="#ffffff"/>',
            *body,
            "</svg>",
            "",
        ]
    )


def _ruler(x: float, y: float, length_mm: int) -> list[str]:
    """A ruler with 1 mm ticks to check that the target was printed at 100%."""
    ticks = [
        f'<line x1="{x + i:g}" y1="{y:g}" x2="{x + i:g}" y2="{y + (2 if i % 5 == 0 else 1):g}" '
        'stroke="#000" stroke-width="0.1"/>'
        for i in range(length_mm + 1)
    ]
    label = f'<text x="{x:g}" y="{y + 4.5:g}" font-size="2" font-family="sans-serif">{length_mm} mm</text>'
    return [
        f'<line x1="{x:g}" y1="{y:g}" x2="{x + length_mm:g}" y2="{y:g}" stroke="#000" stroke-width="0.1"/>',
        *ticks,
        label,
    ]


def checkerboard() -> str:
    columns, rows = (n + 1 for n in CHECKERBOARD["inner_corners"])
    square = CHECKERBOARD["square_mm"]
    margin = 2 * square
    width, height = columns * square + 2 * margin, rows * square + 2 * margin + 8
    squares = [
        f'<rect x="{margin + c * square:g}" y="{margin + r * square:g}" width="{square:g}" height="{square:g}"/>'
        for r in range(rows)
        for c in range(columns)
        if (r + c) % 2 == 0
    ]
    title = f"checkerboard {columns - 1}x{rows - 1} inner corners, {square:g} mm squares"
    return _svg(
        width, height, ['<g fill="#000">', *squares, "</g>", *_ruler(margin, rows * square + margin + 2, 20)], title
    )


def scale_target() -> str:
    side = SCALE_SQUARE_MM
    margin = side
    width, height = side + 2 * margin, side + 2 * margin + 8
    body = [f'<rect x="{margin:g}" y="{margin:g}" width="{side:g}" height="{side:g}" fill="#000"/>']
    return _svg(width, height, body + _ruler(2, side + 2 * margin + 1, 20), f"scale target: {side:g} mm black square")


def colour_chart() -> str:
    pitch = CHART_PITCH_MM
    board = [f'<rect width="{LAYOUT.width * pitch:g}" height="{LAYOUT.height * pitch:g}" fill="#161616"/>']
    patches = []
    for index, (red, green, blue) in enumerate(REFERENCE_SRGB8):
        x, y = LAYOUT.patch_origin(index)
        patches.append(
            f'<rect x="{x * pitch:g}" y="{y * pitch:g}" width="{LAYOUT.patch * pitch:g}" '
            f'height="{LAYOUT.patch * pitch:g}" fill="#{red:02x}{green:02x}{blue:02x}">'
            f"<title>{PATCH_NAMES[index]}</title></rect>"
        )
    margin = 10
    width, height = LAYOUT.width * pitch + 2 * margin, LAYOUT.height * pitch + 2 * margin
    group = [f'<g transform="translate({margin} {margin})">', *board, *patches, "</g>"]
    return _svg(width, height, group, "24-patch colour chart layout (sRGB approximation of the ColorChecker Classic)")


def reference_table() -> str:
    lines = ["patch,name,L_D50,a_D50,b_D50,sRGB_R,sRGB_G,sRGB_B"]
    for index, (name, lab, rgb) in enumerate(zip(PATCH_NAMES, REFERENCE_LAB_D50, REFERENCE_SRGB8, strict=True)):
        lines.append(f"{index + 1},{name},{lab[0]:.2f},{lab[1]:.2f},{lab[2]:.2f},{rgb[0]},{rgb[1]},{rgb[2]}")
    return "\n".join(lines) + "\n"


TARGETS = {
    "checkerboard-9x6-2.5mm.svg": checkerboard,
    "scale-target-10mm.svg": scale_target,
    "colour-chart-layout.svg": colour_chart,
    "colour-chart-reference.csv": reference_table,
}


def main(output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    for name, make in TARGETS.items():
        (output / name).write_text(make(), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
