"""``edgescreen.result/2``'s fields beside each result: lesion diameter, skin-tone category, operating
point name and reference quality verdict. ``/1`` results keep them NULL; nothing is back-filled."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("results") as table:
        table.add_column(sa.Column("lesion_diameter_mm", sa.Float()))
        table.add_column(sa.Column("skin_tone", sa.String(16)))
        table.add_column(sa.Column("operating_point", sa.String(64)))
        table.add_column(sa.Column("quality_reference", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("results") as table:
        for name in ("quality_reference", "operating_point", "skin_tone", "lesion_diameter_mm"):
            table.drop_column(name)
