"""The domain and its persistence: models, migrations, CSV import/export, solving a day."""
from .tasks import TASK_CATEGORY


def includeme(config) -> None:
    config.include(".db")
    config.include(".tasks")
    config.scan(".", categories=(TASK_CATEGORY,), ignore=[".alembic"])
