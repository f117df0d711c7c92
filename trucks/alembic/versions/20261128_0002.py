"""seed known categories

The categories planners use every day, with their Chinese and English display names; an import
may still bring any other key (its names are then the key until someone renames it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 20:44:01.218425
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

KNOWN_CATEGORIES = [
    ("vegetables", "蔬菜", "Vegetables"),
    ("fruit", "水果", "Fruit"),
    ("grain_oil", "粮油", "Grain and oil"),
    ("rice", "大米", "Rice"),
    ("noodles", "面条", "Noodles"),
    ("dairy", "奶制品", "Dairy"),
    ("eggs", "禽蛋", "Eggs"),
    ("meat", "肉类", "Meat"),
    ("fish", "水产", "Fish and seafood"),
    ("bread", "面包", "Bread"),
    ("instant_food", "方便食品", "Instant food"),
    ("frozen", "冷冻食品", "Frozen food"),
    ("baby_food", "婴幼儿食品", "Baby food"),
    ("drinking_water", "饮用水", "Drinking water"),
    ("medicine", "常用药品", "Common medicines"),
    ("household", "日用品", "Household goods"),
]

categories = sa.table(
    "categories",
    sa.column("key", sa.String),
    sa.column("name_zh", sa.String),
    sa.column("name_en", sa.String),
)


def upgrade() -> None:
    op.bulk_insert(
        categories, [{"key": k, "name_zh": zh, "name_en": en} for k, zh, en in KNOWN_CATEGORIES]
    )


def downgrade() -> None:
    op.execute(categories.delete().where(categories.c.key.in_([k for k, _, _ in KNOWN_CATEGORIES])))
