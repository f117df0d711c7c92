"""The domain and its persistence: models, migrations, CSV import/export, solving a day."""


def includeme(config) -> None:
    config.include(".db")
