"""DR-600's grades read as APTOS's definition of referable (``data.dr600_by_grade``), on a small
labels file written here: no shared data needed."""

from __future__ import annotations

from pathlib import Path

from models.build.data import Sample, dr600_by_grade

HEADER = "image_id,file,patient,eye,icdr_grade,aded,maculopathy,referable,class10_name,original_width,original_height"
ROWS = {
    "P1_L": ("0", "0", "0", "0"),  # no DR
    "P1_R": ("1", "0", "1", "1"),  # mild NPDR with maculopathy: referable by maculopathy alone
    "P2_L": ("2", "0", "0", "1"),  # moderate NPDR
    "P2_R": ("", "1", "0", "1"),  # advanced diabetic eye disease, no ICDR grade
    "P3_L": ("1", "0", "0", "0"),  # mild NPDR
}


def test_dr600_grades_read_as_aptos_definition_and_maculopathy_alone(tmp_path: Path) -> None:
    folder = tmp_path / "fundus" / "dr-600"
    folder.mkdir(parents=True)
    lines = [HEADER] + [
        f"{name},images/{name}.jpg,{name[1]},{name[-1]},{grade},{aded},{maculopathy},{referable},x,3872,2592"
        for name, (grade, aded, maculopathy, referable) in ROWS.items()
    ]
    (folder / "labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    samples = [Sample(folder / "images" / f"{name}.jpg", int(values[3]), name[:2]) for name, values in ROWS.items()]
    by_icdr, maculopathy_only = dr600_by_grade(samples, tmp_path)
    assert by_icdr.tolist() == [False, False, True, True, False]
    assert maculopathy_only.tolist() == [False, True, False, False, False]
