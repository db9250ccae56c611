"""stage and span counts: how many participants' histories ever entered each stage, and each step's spans counted by
bucket (2**40 and 2**30 microseconds), kept with the stage entries so that the pipeline report over the whole
history and the supervisor's home read a few rows (filled here for the data already there)

Revision ID: a8e2c4f6b1d3
Revises: c2e8d4a6f1b9
Create Date: 2026-11-30 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8e2c4f6b1d3'
down_revision = 'c2e8d4a6f1b9'
branch_labels = None
depends_on = None

STATES = ("identified", "invited", "attended", "services_offered", "enforced", "closed")


def _stage():
    return sa.Column('stage', sa.Enum(*STATES, name='stage', native_enum=False, create_constraint=True, length=32),
                     nullable=False)


def upgrade():
    op.create_table(
        'stage_counts',
        _stage(),
        sa.Column('participants', sa.BigInteger(), nullable=False),
        sa.Column('spans', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('stage', name=op.f('pk_stage_counts')),
    )
    op.create_table(
        'span_counts',
        _stage(),
        sa.Column('width', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('bucket', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('spans', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('stage', 'width', 'bucket', name=op.f('pk_span_counts')),
    )
    values = ", ".join(f"('{stage}')" for stage in STATES)
    op.execute(
        "INSERT INTO stage_counts (stage, participants, spans)"
        f" SELECT s.stage, count(e.stage), count(e.span) FROM (VALUES {values}) AS s (stage)"
        " LEFT JOIN stage_entries e ON e.stage = s.stage GROUP BY s.stage"
        if op.get_bind().dialect.name == "postgresql" else
        "INSERT INTO stage_counts (stage, participants, spans)"
        f" SELECT s.column1, count(e.stage), count(e.span) FROM (VALUES {values}) AS s"
        " LEFT JOIN stage_entries e ON e.stage = s.column1 GROUP BY s.column1"
    )
    for width in (40, 30):
        op.execute(
            "INSERT INTO span_counts (stage, width, bucket, spans)"
            f" SELECT stage, {width}, span >> {width}, count(*) FROM stage_entries WHERE span IS NOT NULL"
            f" GROUP BY stage, span >> {width}"
        )


def downgrade():
    op.drop_table('span_counts')
    op.drop_table('stage_counts')
