"""A small library written the way real ones are: a class without `__repr__`, a `__repr__`
that raises, an object made by a factory; its tests build each of them."""

TABLES = """\
class Table:
    def __init__(self, name, columns=None):
        self.name = name
        self.columns = dict(columns or {})

    def column_type(self, column):
        return self.columns[column]


class Schema:
    def __init__(self, tables=None):
        self.tables = tables

    def __repr__(self):
        return f"Schema({len(self.tables)} tables)"

    def size(self, name):
        return len(self.tables[name])
"""
DB = """\
class Connection:
    def __init__(self, url, retries):
        self.url = url
        self.retries = retries

    def backoff(self):
        return 10 / self.retries


def connect(url: str, retries: int = 0) -> "Connection":
    return Connection(url, retries)
"""
SUITE = """\
from lib.db import connect
from lib.tables import Schema, Table


def test_columns():
    assert Table("users", {"id": "int"}).column_type("id") == "int"


def test_empty_table():
    assert Table("empty").name == "empty"


def test_schema():
    assert Schema({"users": [1, 2]}).size("users") == 2


def test_connect():
    assert connect("sqlite://", retries=2).backoff() == 5


def test_no_tables():
    assert Schema().tables is None


def test_url():
    assert connect("sqlite://").url == "sqlite://"
"""
SETUP = "from lib.tables import *\nfrom lib.db import *"
