from setuptools import find_namespace_packages, setup

requires = [
    "pyramid==2.1",
    "pyramid_jinja2>=2.10",
    "pyramid_tm>=2.6",
    "pyramid_retry>=2.1",
    "zope.sqlalchemy>=4.1",
    "transaction>=5.1",
    "SQLAlchemy>=2.0,<2.2",
    "alembic>=1.13",
    "waitress>=3.0",
    "pulp==3.3.2",
    "highspy>=1.7",
    "numpy>=1.26",
    "numba>=0.60",
    "argon2-cffi>=23.1",
    "segno>=1.6",
    "celery[redis]>=5.3,<6",
]

tests_require = [
    "pytest>=8",
    "webtest>=3.0",
    "hypothesis>=6.100,<6.123",  # schemathesis 3 uses hypothesis internals that 6.170 no longer has
    "playwright>=1.45",
    "psycopg[binary]>=3.1",
    "openapi-spec-validator>=0.7",
    "jsonschema>=4.18",
    "schemathesis>=3.30,<4",
    "requests>=2.31",
]

setup(
    name="foodtrucks",
    version="0.1.0",
    description="Food truck schedules for sealed residential compounds (集订分送)",
    python_requires=">=3.11",
    # namespace discovery: the template, static, locale and alembic folders are packages of data
    packages=find_namespace_packages(include=["scheduling*", "trucks*", "views*"], exclude=["*.__pycache__"]),
    include_package_data=True,
    zip_safe=False,
    install_requires=requires,
    extras_require={
        "testing": tests_require,
        "postgresql": ["psycopg[binary]>=3.1"],
        "bench": ["ortools>=9.10", "pyvrp>=0.9", "psutil>=5.9"],
    },
    entry_points={
        "paste.app_factory": ["main = views:main"],
        "console_scripts": ["foodtrucks = trucks.cli:main"],
    },
)
