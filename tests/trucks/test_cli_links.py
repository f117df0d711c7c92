"""``foodtrucks links``: the committees' links as CSV or a printable QR sheet, on a committed file."""
import csv
import io

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.factories import make_csv_files
from tests.trucks.test_cli import import_args, write_files
from trucks.cli import main
from trucks.committees import display_code
from trucks.models import Compound


def compounds(url):
    engine = create_engine(url)
    with Session(engine) as session:
        found = [(c.code, c.name, c.town, c.access_token, c.committee_code)
                 for c in session.scalars(select(Compound).order_by(Compound.code))]
    engine.dispose()
    return found


def test_links_as_csv_and_as_a_qr_sheet(file_ini, file_database, tmp_path, capsys):
    assert main(import_args(file_ini, write_files(tmp_path, make_csv_files()))) == 0
    capsys.readouterr()
    known = compounds(file_database)
    assert main(["links", str(file_ini), "--town", "莘庄", "--base-url", "https://trucks.example.org/"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0] == ["compound_id", "name", "town", "link"]
    assert table[1:] == [[code, name, town, f"https://trucks.example.org/c/{token}"]
                         for code, name, town, token, _ in known]
    assert main(["links", str(file_ini), "--with-codes"]) == 0  # the ini's foodtrucks.public_url
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0][-1] == "committee_code_private"
    assert [row[-1] for row in table[1:]] == [display_code(code) for *_, code in known]
    assert table[1][3].startswith("http://localhost:6543/c/")
    assert main(["links", str(file_ini), "--format", "html"]) == 0
    sheet = capsys.readouterr().out
    assert sheet.startswith("<!doctype html>") and sheet.count("<figure>") == len(known) and "<svg" in sheet
    assert all(name in sheet and token in sheet and code not in sheet for _, name, _, token, code in known)
    assert main(["links", str(file_ini), "--format", "html", "--with-codes"]) == 2
    assert main(["links", str(file_ini), "--town", "梅陇"]) == 1
    assert "no compound matches" in capsys.readouterr().err
