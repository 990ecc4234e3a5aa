"""orders-api: an orders/checkout HTTP API on plain WSGI (app `web-handler`).

One base history (router, handlers, pricing, an in-memory repository, a Redis-backed payments
ledger client), then one bug per case on top of it.
"""

from __future__ import annotations

from evals.builders.kit import CaseSpec, Commit, Gold

APP = "web-handler"

MAYA = "Maya Lindqvist <maya@shopfront.dev>"
TOMAS = "Tomás Ferreira <tomas.ferreira@shopfront.dev>"
PRIYA = "Priya Raman <priya@shopfront.dev>"


def _edit(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced by `new`."""
    count = text.count(old)
    if count != 1:
        raise ValueError(f"expected one occurrence, found {count}: {old[:60]!r}")
    return text.replace(old, new)


# --- base files -----------------------------------------------------------------------------

PYPROJECT = """
[project]
name = "orders-api"
version = "1.3.0"
description = "Orders and checkout API for the shopfront"
requires-python = ">=3.11"

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
"""

README = """
# orders-api

Orders and checkout HTTP API for the shopfront. Plain WSGI, no framework.

    gunicorn wsgi:application

Configuration (environment):

- `ORDERS_LEDGER_URL`: the payments ledger (Redis), default `redis://127.0.0.1:6379/0`.

Run the tests with `python -m pytest -q`.
"""

WSGI = '''
"""WSGI entry point: `gunicorn wsgi:application`."""

from orders_api.app import create_app

application = create_app()
'''

INIT = '''
"""Orders and checkout API."""

__version__ = "1.3.0"
'''

HTTP = '''
"""Request parsing and JSON responses for the WSGI layer."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs


class HTTPError(Exception):
    """An error the client caused; rendered as `{"error": message}` with the status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Request:
    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        self.path = environ.get("PATH_INFO") or "/"
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.query = {key: values[-1] for key, values in query.items()}
        self._json: dict[str, Any] | None = None

    def json(self) -> dict[str, Any]:
        if self._json is None:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
            raw = self.environ["wsgi.input"].read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise HTTPError(400, "request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise HTTPError(400, "request body must be a JSON object")
            self._json = body
        return self._json


class Response:
    def __init__(self, payload: Any, status: int = 200) -> None:
        self.payload = payload
        self.status = status

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"

    def body(self) -> bytes:
        return json.dumps(self.payload, default=str).encode("utf-8")
'''

ROUTER = '''
"""A small path router: patterns like `/orders/<order_id>` mapped to handlers."""

from __future__ import annotations

import re
from collections.abc import Callable

from orders_api.http import HTTPError

_PARAM = re.compile(r"<(\\w+)>")


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Callable]] = []

    def add(self, method: str, pattern: str, handler: Callable) -> None:
        regex = re.compile("^" + _PARAM.sub(r"(?P<\\1>[^/]+)", pattern) + "$")
        self._routes.append((method.upper(), regex, handler))

    def resolve(self, method: str, path: str) -> tuple[Callable, dict[str, str]]:
        path_matched = False
        for route_method, regex, handler in self._routes:
            found = regex.match(path)
            if found is None:
                continue
            if route_method == method:
                return handler, found.groupdict()
            path_matched = True
        if path_matched:
            raise HTTPError(405, f"{method} is not allowed on {path}")
        raise HTTPError(404, f"no route for {path}")
'''

CATALOG = '''
"""The product catalog: SKU -> name and unit price (cents, net)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price_cents: int


_PRODUCTS = (
    Product("MUG-01", "Enamel mug", 1450),
    Product("TEE-BLK-M", "T-shirt, black, M", 2200),
    Product("TEE-BLK-L", "T-shirt, black, L", 2200),
    Product("CAP-02", "Cap", 1800),
    Product("POSTER-A2", "Poster A2", 900),
)
PRODUCTS = {product.sku: product for product in _PRODUCTS}


def find(sku: str) -> Product | None:
    return PRODUCTS.get(sku.strip().upper())
'''

REPOSITORY = '''
"""In-memory storage of customers and orders."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Customer:
    id: str
    email: str
    tier: str = "standard"


@dataclass
class LineItem:
    sku: str
    quantity: int
    unit_price_cents: int

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass
class Order:
    id: int
    customer_id: str | None
    items: list[LineItem]
    coupon: str | None = None
    status: str = "open"
    country: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    paid_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class OrderRepository:
    def __init__(self) -> None:
        self._orders: dict[int, Order] = {}
        self._customers: dict[str, Customer] = {}
        self._ids = itertools.count(1001)

    def add_customer(self, customer: Customer) -> Customer:
        self._customers[customer.id] = customer
        return customer

    def get_customer(self, customer_id: str | None) -> Customer | None:
        return self._customers.get(customer_id) if customer_id else None

    def create(
        self,
        customer_id: str | None,
        items: list[LineItem],
        coupon: str | None = None,
        created_at: datetime | None = None,
    ) -> Order:
        order = Order(next(self._ids), customer_id, list(items), coupon)
        if created_at is not None:
            order.created_at = created_at
        self._orders[order.id] = order
        return order

    def get(self, order_id: int) -> Order | None:
        return self._orders.get(order_id)

    def all(self) -> list[Order]:
        return sorted(self._orders.values(), key=lambda order: order.id)

    def for_customer(self, customer_id: str) -> list[Order]:
        return [order for order in self.all() if order.customer_id == customer_id]
'''

PRICING = '''
"""Discounts, shipping and tax for an order. All amounts are integer cents."""

from __future__ import annotations

from orders_api.repository import Customer, Order

COUPONS = {
    "WELCOME10": {"percent": 10},
    "SPRING5": {"amount_cents": 500, "min_subtotal_cents": 2500},
    "GOLD15": {"percent": 15, "tier": "gold"},
}
TIER_PERCENT = {"standard": 0, "gold": 5}
TAX_PERCENT = {"DE": 19, "AT": 20, "FR": 20, "NL": 21}
DEFAULT_TAX_PERCENT = 19
FLAT_SHIPPING_CENTS = 495
FREE_SHIPPING_CENTS = 5000


def subtotal_cents(order: Order) -> int:
    return sum(item.total_cents for item in order.items)


def coupon_discount(code: str | None, subtotal: int, customer: Customer | None) -> int:
    if not code:
        return 0
    coupon = COUPONS.get(code.strip().upper())
    if coupon is None:
        return 0
    if "tier" in coupon and (customer is None or customer.tier != coupon["tier"]):
        return 0
    if subtotal < coupon.get("min_subtotal_cents", 0):
        return 0
    if "percent" in coupon:
        return subtotal * coupon["percent"] // 100
    return min(coupon["amount_cents"], subtotal)


def tier_discount(customer: Customer | None, subtotal: int) -> int:
    if customer is None:  # guest checkout
        return 0
    return subtotal * TIER_PERCENT.get(customer.tier, 0) // 100


def shipping_cents(subtotal: int) -> int:
    if subtotal >= FREE_SHIPPING_CENTS:
        return 0
    return FLAT_SHIPPING_CENTS


def tax_cents(net: int, country: str) -> int:
    return net * TAX_PERCENT.get(country, DEFAULT_TAX_PERCENT) // 100


def quote(order: Order, customer: Customer | None, country: str = "DE") -> dict[str, int | str]:
    subtotal = subtotal_cents(order)
    discount = coupon_discount(order.coupon, subtotal, customer)
    discount = min(subtotal, discount + tier_discount(customer, subtotal))
    shipping = shipping_cents(subtotal)
    net = subtotal - discount + shipping
    tax = tax_cents(net, country)
    return {
        "subtotal_cents": subtotal,
        "discount_cents": discount,
        "shipping_cents": shipping,
        "tax_cents": tax,
        "total_cents": net + tax,
        "currency": "EUR",
    }
'''

LEDGER = '''
"""The payments ledger: one Redis key per paid order, so a payment is recorded once."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

DEFAULT_URL = "redis://127.0.0.1:6379/0"


class LedgerError(Exception):
    pass


def _encode(*parts: str) -> bytes:
    out = [b"*%d\\r\\n" % len(parts)]
    for part in parts:
        data = part.encode("utf-8")
        out.append(b"$%d\\r\\n%s\\r\\n" % (len(data), data))
    return b"".join(out)


class Ledger:
    def __init__(self, host: str, port: int, db: int = 0, timeout: float = 2.0) -> None:
        self.host = host
        self.port = port
        self.db = db
        self.timeout = timeout

    @classmethod
    def from_env(cls) -> Ledger:
        url = urlsplit(os.environ.get("ORDERS_LEDGER_URL", DEFAULT_URL))
        db = int(url.path.lstrip("/") or 0)
        return cls(url.hostname or "127.0.0.1", url.port or 6379, db)

    def _command(self, *parts: str) -> bytes:
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as conn:
            replies = conn.makefile("rb")
            if self.db:
                conn.sendall(_encode("SELECT", str(self.db)))
                replies.readline()
            conn.sendall(_encode(*parts))
            reply = replies.readline()
        if reply.startswith(b"-"):
            raise LedgerError(reply[1:].strip().decode("utf-8", "replace"))
        return reply.strip()

    def record_payment(self, order_id: int, amount_cents: int) -> bool:
        """Record the payment; False if the order was already recorded as paid."""
        reply = self._command("SET", f"paid:{order_id}", str(amount_cents), "NX")
        return reply == b"+OK"


class MemoryLedger:
    """The ledger for tests and local runs."""

    def __init__(self) -> None:
        self.payments: dict[int, int] = {}

    def record_payment(self, order_id: int, amount_cents: int) -> bool:
        if order_id in self.payments:
            return False
        self.payments[order_id] = amount_cents
        return True
'''

HANDLERS = '''
"""HTTP handlers. Each takes the request and the app (for its repository and ledger).

Bad input is the client's error: handlers raise `HTTPError(400, ...)` for it.
"""

from __future__ import annotations

from typing import Any

from orders_api import catalog, pricing
from orders_api.http import HTTPError, Request, Response
from orders_api.repository import LineItem, utcnow

ORDER_STATUSES = {"open", "paid", "cancelled"}
HISTORY_SIZE = 20


def _order_or_404(app: Any, order_id: str) -> Any:
    order = app.repo.get(int(order_id)) if order_id.isdigit() else None
    if order is None:
        raise HTTPError(404, f"no order {order_id}")
    return order


def health(request: Request, app: Any) -> Response:
    return Response({"status": "ok"})


def list_orders(request: Request, app: Any) -> Response:
    orders = app.repo.all()
    status = request.query.get("status")
    if status:
        if status not in ORDER_STATUSES:
            raise HTTPError(400, f"unknown status {status!r}")
        orders = [order for order in orders if order.status == status]
    return Response({"orders": [order.to_dict() for order in orders]})


def customer_orders(request: Request, app: Any, customer_id: str) -> Response:
    if app.repo.get_customer(customer_id) is None:
        raise HTTPError(404, f"no customer {customer_id}")
    orders = app.repo.for_customer(customer_id)[-HISTORY_SIZE:]
    return Response({"customer_id": customer_id, "orders": [o.to_dict() for o in orders]})


def create_order(request: Request, app: Any) -> Response:
    body = request.json()
    raw_items = body.get("items") or []
    if not raw_items:
        raise HTTPError(400, "an order needs at least one item")
    items = []
    for raw in raw_items:
        product = catalog.find(str(raw.get("sku", "")))
        if product is None:
            raise HTTPError(400, f"unknown sku {raw.get('sku')!r}")
        quantity = int(raw.get("quantity", 1))
        if quantity < 1:
            raise HTTPError(400, "quantity must be at least 1")
        items.append(LineItem(product.sku, quantity, product.price_cents))
    customer_id = body.get("customer_id")
    if customer_id is not None and app.repo.get_customer(customer_id) is None:
        raise HTTPError(404, f"no customer {customer_id}")
    order = app.repo.create(customer_id, items, body.get("coupon"))
    return Response(order.to_dict(), 201)


def get_order(request: Request, app: Any, order_id: str) -> Response:
    return Response(_order_or_404(app, order_id).to_dict())


def quote_order(request: Request, app: Any, order_id: str) -> Response:
    order = _order_or_404(app, order_id)
    customer = app.repo.get_customer(order.customer_id)
    country = request.query.get("country", "DE").upper()
    return Response({"order_id": order.id, **pricing.quote(order, customer, country)})


def pay_order(request: Request, app: Any, order_id: str) -> Response:
    order = _order_or_404(app, order_id)
    if order.status != "open":
        raise HTTPError(409, f"order {order.id} is {order.status}")
    country = str(request.json().get("country", "DE")).upper()
    customer = app.repo.get_customer(order.customer_id)
    totals = pricing.quote(order, customer, country)
    if not app.ledger.record_payment(order.id, totals["total_cents"]):
        raise HTTPError(409, f"order {order.id} was already paid")
    order.status, order.country, order.paid_at = "paid", country, utcnow()
    return Response({"order_id": order.id, "status": order.status, **totals})


def order_receipt(request: Request, app: Any, order_id: str) -> Response:
    order = _order_or_404(app, order_id)
    if order.status != "paid":
        raise HTTPError(409, f"order {order.id} is not paid")
    customer = app.repo.get_customer(order.customer_id)
    totals = pricing.quote(order, customer, order.country or "DE")
    lines = [
        {
            "sku": item.sku,
            "name": catalog.PRODUCTS[item.sku].name,
            "quantity": item.quantity,
            "total_cents": item.total_cents,
        }
        for item in order.items
    ]
    return Response({"order_id": order.id, "paid_at": order.paid_at, "lines": lines, **totals})
'''

APP_PY = '''
"""The WSGI application: the routing table and error rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from orders_api import handlers
from orders_api.http import HTTPError, Request, Response
from orders_api.ledger import Ledger, MemoryLedger
from orders_api.repository import OrderRepository
from orders_api.router import Router


def build_router() -> Router:
    router = Router()
    router.add("GET", "/health", handlers.health)
    router.add("GET", "/orders", handlers.list_orders)
    router.add("POST", "/orders", handlers.create_order)
    router.add("GET", "/orders/<order_id>", handlers.get_order)
    router.add("GET", "/orders/<order_id>/quote", handlers.quote_order)
    router.add("POST", "/orders/<order_id>/pay", handlers.pay_order)
    router.add("GET", "/orders/<order_id>/receipt", handlers.order_receipt)
    router.add("GET", "/customers/<customer_id>/orders", handlers.customer_orders)
    return router


class OrdersApp:
    def __init__(self, repo: OrderRepository, ledger: Ledger | MemoryLedger) -> None:
        self.repo = repo
        self.ledger = ledger
        self.router = build_router()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            handler, params = self.router.resolve(request.method, request.path)
            response = handler(request, self, **params)
        except HTTPError as error:
            response = Response({"error": error.message}, error.status)
        body = response.body()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(response.status_line, headers)
        return [body]


def create_app(
    repo: OrderRepository | None = None, ledger: Ledger | MemoryLedger | None = None
) -> OrdersApp:
    return OrdersApp(repo or OrderRepository(), ledger or Ledger.from_env())
'''

CONFTEST = """
import io
import json

import pytest

from orders_api.app import create_app
from orders_api.ledger import MemoryLedger
from orders_api.repository import Customer, OrderRepository


class Client:
    def __init__(self, app):
        self.app = app

    def request(self, method, path, query="", body=None):
        payload = json.dumps(body).encode() if body is not None else b""
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(payload)),
            "wsgi.input": io.BytesIO(payload),
        }
        seen = {}

        def start_response(status, headers):
            seen["status"] = int(status.split()[0])

        raw = b"".join(self.app(environ, start_response))
        return seen["status"], json.loads(raw)

    def get(self, path, query=""):
        return self.request("GET", path, query)

    def post(self, path, body=None):
        return self.request("POST", path, body=body)


@pytest.fixture
def repo():
    repo = OrderRepository()
    repo.add_customer(Customer("c-100", "ada@example.com"))
    repo.add_customer(Customer("c-200", "grace@example.com", tier="gold"))
    return repo


@pytest.fixture
def ledger():
    return MemoryLedger()


@pytest.fixture
def client(repo, ledger):
    return Client(create_app(repo, ledger))
"""

TEST_API = """
def test_health(client):
    assert client.get("/health") == (200, {"status": "ok"})


def test_create_and_fetch_order(client):
    status, order = client.post(
        "/orders", {"customer_id": "c-100", "items": [{"sku": "MUG-01", "quantity": 2}]}
    )
    assert status == 201
    assert order["items"] == [{"sku": "MUG-01", "quantity": 2, "unit_price_cents": 1450}]
    assert client.get(f"/orders/{order['id']}")[1]["id"] == order["id"]


def test_unknown_sku_is_rejected(client):
    status, body = client.post("/orders", {"items": [{"sku": "NOPE", "quantity": 1}]})
    assert status == 400
    assert "NOPE" in body["error"]


def test_quote_for_gold_customer(client):
    _, order = client.post(
        "/orders", {"customer_id": "c-200", "items": [{"sku": "TEE-BLK-M", "quantity": 2}]}
    )
    status, quote = client.get(f"/orders/{order['id']}/quote", "country=DE")
    assert status == 200
    assert quote["subtotal_cents"] == 4400
    assert quote["discount_cents"] == 220
    assert quote["shipping_cents"] == 495


def test_pay_order_once(client, ledger):
    _, order = client.post(
        "/orders", {"customer_id": "c-100", "items": [{"sku": "CAP-02", "quantity": 3}]}
    )
    status, paid = client.post(f"/orders/{order['id']}/pay", {"country": "NL"})
    assert status == 200
    assert paid["status"] == "paid"
    assert ledger.payments[order["id"]] == paid["total_cents"]
    assert client.post(f"/orders/{order['id']}/pay", {"country": "NL"})[0] == 409


def test_list_orders_by_status(client):
    client.post("/orders", {"customer_id": "c-100", "items": [{"sku": "MUG-01", "quantity": 1}]})
    assert len(client.get("/orders", "status=open")[1]["orders"]) == 1
    assert client.get("/orders", "status=paid")[1]["orders"] == []
    assert client.get("/orders", "status=lost")[0] == 400


def test_unknown_route_and_method(client):
    assert client.get("/nope")[0] == 404
    assert client.request("DELETE", "/orders")[0] == 405
"""

TEST_PRICING = """
from orders_api import pricing
from orders_api.repository import Customer, LineItem, Order


def order(*items, coupon=None):
    return Order(1, "c-1", [LineItem(sku, qty, price) for sku, qty, price in items], coupon)


def test_percent_coupon():
    quote = pricing.quote(order(("MUG-01", 2, 1450), coupon="welcome10"), Customer("c-1", "a@x"))
    assert quote["discount_cents"] == 290


def test_amount_coupon_needs_minimum_subtotal():
    small = order(("POSTER-A2", 1, 900), coupon="SPRING5")
    ada = Customer("c-1", "a@x")
    assert pricing.quote(small, ada)["discount_cents"] == 0
    large = order(("POSTER-A2", 3, 900), coupon="SPRING5")
    assert pricing.quote(large, ada)["discount_cents"] == 500


def test_gold_coupon_only_for_gold_tier():
    gold = Customer("c-2", "g@x", tier="gold")
    standard = Customer("c-3", "s@x")
    items = ("CAP-02", 2, 1800)
    assert pricing.quote(order(items, coupon="GOLD15"), standard)["discount_cents"] == 0
    assert pricing.quote(order(items, coupon="GOLD15"), gold)["discount_cents"] == 540 + 180


def test_free_shipping_and_tax():
    quote = pricing.quote(order(("TEE-BLK-L", 3, 2200)), Customer("c-1", "a@x"), "FR")
    assert quote["shipping_cents"] == 0
    assert quote["tax_cents"] == 6600 * 20 // 100
    assert quote["total_cents"] == 6600 + 1320
"""

TEST_ROUTER = """
import pytest

from orders_api.http import HTTPError
from orders_api.router import Router


def test_resolves_parameters():
    router = Router()
    router.add("GET", "/orders/<order_id>", "handler")
    assert router.resolve("GET", "/orders/42") == ("handler", {"order_id": "42"})


def test_wrong_method_is_405():
    router = Router()
    router.add("GET", "/orders", "handler")
    with pytest.raises(HTTPError) as error:
        router.resolve("PUT", "/orders")
    assert error.value.status == 405
"""

GITIGNORE = """
__pycache__/
*.pyc
.pytest_cache/
.venv/
"""

BASE = (
    Commit(
        "Orders API: WSGI app with router, order repository and JSON handlers",
        MAYA,
        "2026-01-12T09:41:00+01:00",
        {
            ".gitignore": GITIGNORE,
            "pyproject.toml": PYPROJECT,
            "README.md": README,
            "wsgi.py": WSGI,
            "orders_api/__init__.py": INIT.replace("1.3.0", "1.0.0"),
            "orders_api/http.py": HTTP,
            "orders_api/router.py": ROUTER,
            "orders_api/catalog.py": CATALOG,
            "orders_api/repository.py": REPOSITORY,
            "orders_api/pricing.py": _edit(
                _edit(PRICING, "    shipping = shipping_cents(subtotal)\n", "    shipping = 0\n"),
                """
def shipping_cents(subtotal: int) -> int:
    if subtotal >= FREE_SHIPPING_CENTS:
        return 0
    return FLAT_SHIPPING_CENTS

""",
                "",
            ),
            "orders_api/ledger.py": LEDGER,
            "orders_api/handlers.py": HANDLERS,
            "orders_api/app.py": APP_PY,
            "tests/conftest.py": CONFTEST,
            "tests/test_api.py": TEST_API.replace(
                '    assert quote["shipping_cents"] == 495\n', ""
            ),
            "tests/test_router.py": TEST_ROUTER,
            "tests/test_pricing.py": _edit(
                TEST_PRICING, '    assert quote["shipping_cents"] == 0\n', ""
            ),
        },
    ),
    Commit(
        "pricing: flat shipping below 50 EUR",
        TOMAS,
        "2026-01-20T16:05:00+00:00",
        {
            "orders_api/pricing.py": PRICING,
            "tests/test_api.py": TEST_API,
            "tests/test_pricing.py": TEST_PRICING,
        },
    ),
    Commit(
        "Release 1.3.0",
        MAYA,
        "2026-02-03T11:30:00+01:00",
        {"orders_api/__init__.py": INIT},
        tag="v1.3.0",
    ),
)

# Unrelated later commits, so that the bug commit is not HEAD.
README_DEPLOY = (
    README
    + """
## Deploying

The service runs behind gunicorn with 4 sync workers; see `deploy/gunicorn.conf.py`.
"""
)
GUNICORN_CONF = """
bind = "0.0.0.0:8080"
workers = 4
worker_class = "sync"
timeout = 30
accesslog = "-"
"""
CATALOG_HOODIE = _edit(
    CATALOG,
    '    Product("POSTER-A2", "Poster A2", 900),\n',
    '    Product("POSTER-A2", "Poster A2", 900),\n'
    '    Product("HOODIE-GRY-M", "Hoodie, grey, M", 4900),\n',
)


def later_docs(date: str) -> Commit:
    return Commit(
        "docs: how the service is deployed",
        PRIYA,
        date,
        {"README.md": README_DEPLOY, "deploy/gunicorn.conf.py": GUNICORN_CONF},
    )


def later_catalog(date: str) -> Commit:
    return Commit(
        "catalog: add the grey hoodie",
        TOMAS,
        date,
        {"orders_api/catalog.py": CATALOG_HOODIE},
    )


WSGI_TRIGGER_HEAD = """
import io
import json
from wsgiref.util import setup_testing_defaults

from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

from wsgi import application

app = SentryWsgiMiddleware(application)


def request(method, path, query="", body=None):
    payload = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(payload)),
        "HTTP_USER_AGENT": "shopfront-web/4.2",
        "wsgi.input": io.BytesIO(payload),
    }
    setup_testing_defaults(environ)
    environ["HTTP_HOST"] = "api.shopfront.dev"
    status = []
    chunks = app(environ, lambda line, headers, exc_info=None: status.append(line))
    return status[0], json.loads(b"".join(chunks))

"""


LEDGER_STAND_IN = '''
import os
import socketserver
import threading


class _LedgerRedis(socketserver.StreamRequestHandler):
    """Stands in for the payments Redis: answers every command with +OK."""

    def handle(self):
        while line := self.rfile.readline():
            if line.startswith(b"*"):
                for _ in range(2 * int(line[1:])):
                    self.rfile.readline()
                self.wfile.write(b"+OK\\r\\n")


_server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _LedgerRedis)
threading.Thread(target=_server.serve_forever, daemon=True).start()
os.environ["ORDERS_LEDGER_URL"] = "redis://127.0.0.1:%d/2" % _server.server_address[1]
'''


def trigger(body: str) -> str:
    return WSGI_TRIGGER_HEAD + body


# --- case: none-attribute -------------------------------------------------------------------

REPOSITORY_TIER = _edit(
    REPOSITORY,
    """    tier: str = "standard"
""",
    """    tier: str = "standard"

    @property
    def discount_percent(self) -> int:
        return {"standard": 0, "silver": 3, "gold": 5}.get(self.tier, 0)
""",
)
PRICING_TIER = _edit(
    _edit(
        PRICING,
        """def tier_discount(customer: Customer | None, subtotal: int) -> int:
    if customer is None:  # guest checkout
        return 0
    return subtotal * TIER_PERCENT.get(customer.tier, 0) // 100
""",
        """def tier_discount(customer: Customer | None, subtotal: int) -> int:
    return subtotal * customer.discount_percent // 100
""",
    ),
    'TIER_PERCENT = {"standard": 0, "gold": 5}\n',
    "",
)
PRICING_TIER_FIXED = _edit(
    PRICING_TIER,
    "    return subtotal * customer.discount_percent // 100\n",
    """    if customer is None:  # guest checkout
        return 0
    return subtotal * customer.discount_percent // 100
""",
)
BUG_TIER = "customers: the tier discount rate lives on Customer; add the silver tier"

NONE_ATTRIBUTE = CaseSpec(
    id="web-handler-none-attribute",
    title="Quote for a guest checkout order crashes with AttributeError on None",
    app=APP,
    bug_class="none-attribute",
    history=(
        *BASE,
        Commit(
            BUG_TIER,
            TOMAS,
            "2026-02-17T14:22:00+00:00",
            {"orders_api/repository.py": REPOSITORY_TIER, "orders_api/pricing.py": PRICING_TIER},
        ),
        later_docs("2026-02-19T10:02:00+01:00"),
    ),
    gold=Gold("orders_api/pricing.py", "tier_discount", BUG_TIER),
    trigger=trigger(
        """
request("POST", "/orders", body={"items": [{"sku": "MUG-01", "quantity": 2}], "coupon": "WELCOME10"})
request("GET", "/orders/1001/quote", "country=AT")
"""
    ),
    fix={"orders_api/pricing.py": PRICING_TIER_FIXED},
    hidden={
        "tests/test_hidden_guest_quote.py": """
def test_guest_order_quote_has_no_tier_discount(client):
    _, order = client.post("/orders", {"items": [{"sku": "MUG-01", "quantity": 2}], "coupon": "WELCOME10"})
    status, quote = client.get(f"/orders/{order['id']}/quote", "country=AT")
    assert status == 200
    assert quote["subtotal_cents"] == 2900
    assert quote["discount_cents"] == 290


def test_silver_and_gold_customers_keep_their_tier_discount(client, repo):
    from orders_api.repository import Customer

    repo.add_customer(Customer("c-300", "s@example.com", tier="silver"))
    for customer_id, discount in (("c-300", 87), ("c-200", 145)):
        _, order = client.post("/orders", {"customer_id": customer_id, "items": [{"sku": "MUG-01", "quantity": 2}]})
        status, quote = client.get(f"/orders/{order['id']}/quote")
        assert status == 200
        assert quote["discount_cents"] == discount
"""
    },
    shape="sentry_event",
    deploy_path="/srv/orders-api",
    project="4507310",
)

# --- case: missing-key ----------------------------------------------------------------------

HANDLERS_MERGE = _edit(
    _edit(
        HANDLERS,
        """    items = []
    for raw in raw_items:
        product = catalog.find(str(raw.get("sku", "")))
        if product is None:
            raise HTTPError(400, f"unknown sku {raw.get('sku')!r}")
        quantity = int(raw.get("quantity", 1))
        if quantity < 1:
            raise HTTPError(400, "quantity must be at least 1")
        items.append(LineItem(product.sku, quantity, product.price_cents))
    customer_id""",
        """    items = _line_items(raw_items)
    customer_id""",
    ),
    """def create_order(""",
    '''def _line_items(raw_items: list[dict[str, Any]]) -> list[LineItem]:
    """One line item per SKU: the web shop sends a line per click, so SKUs repeat."""
    quantities: dict[str, int] = {}
    for raw in raw_items:
        product = catalog.find(str(raw.get("sku", "")))
        if product is None:
            raise HTTPError(400, f"unknown sku {raw.get('sku')!r}")
        quantity = int(raw["quantity"])
        if quantity < 1:
            raise HTTPError(400, "quantity must be at least 1")
        quantities[product.sku] = quantities.get(product.sku, 0) + quantity
    return [
        LineItem(sku, quantity, catalog.PRODUCTS[sku].price_cents)
        for sku, quantity in quantities.items()
    ]


def create_order(''',
)
HANDLERS_MERGE_FIXED = _edit(
    HANDLERS_MERGE, 'quantity = int(raw["quantity"])', 'quantity = int(raw.get("quantity", 1))'
)
TEST_API_MERGE = (
    TEST_API
    + """

def test_repeated_skus_are_merged(client):
    items = [{"sku": "MUG-01", "quantity": 1}, {"sku": "CAP-02", "quantity": 1}, {"sku": "mug-01", "quantity": 2}]
    status, order = client.post("/orders", {"items": items})
    assert status == 201
    assert [(i["sku"], i["quantity"]) for i in order["items"]] == [("MUG-01", 3), ("CAP-02", 1)]
"""
)
BUG_MERGE = "orders: merge repeated SKUs into one line item"

MISSING_KEY = CaseSpec(
    id="web-handler-missing-key",
    title="Creating an order from the mobile app fails with KeyError: 'quantity'",
    app=APP,
    bug_class="missing-key",
    history=(
        *BASE,
        Commit(
            BUG_MERGE,
            PRIYA,
            "2026-02-11T17:48:00+05:30",
            {"orders_api/handlers.py": HANDLERS_MERGE, "tests/test_api.py": TEST_API_MERGE},
        ),
        later_catalog("2026-02-12T09:15:00+00:00"),
        later_docs("2026-02-13T08:40:00+01:00"),
    ),
    gold=Gold("orders_api/handlers.py", "_line_items", BUG_MERGE),
    trigger=trigger(
        """
request(
    "POST",
    "/orders",
    body={
        "customer_id": None,
        "items": [{"sku": "TEE-BLK-M"}, {"sku": "CAP-02", "quantity": 2}],
        "client": "shopfront-ios/3.8.1",
    },
)
"""
    ),
    fix={"orders_api/handlers.py": HANDLERS_MERGE_FIXED},
    hidden={
        "tests/test_hidden_item_quantity.py": """
def test_item_without_quantity_counts_as_one(client):
    status, order = client.post("/orders", {"items": [{"sku": "TEE-BLK-M"}, {"sku": "CAP-02", "quantity": 2}]})
    assert status == 201
    assert [(i["sku"], i["quantity"]) for i in order["items"]] == [("TEE-BLK-M", 1), ("CAP-02", 2)]


def test_repeated_sku_without_quantity_is_merged(client):
    status, order = client.post("/orders", {"items": [{"sku": "MUG-01", "quantity": 2}, {"sku": "MUG-01"}]})
    assert status == 201
    assert [(i["sku"], i["quantity"]) for i in order["items"]] == [("MUG-01", 3)]


def test_zero_quantity_is_still_rejected(client):
    assert client.post("/orders", {"items": [{"sku": "MUG-01", "quantity": 0}]})[0] == 400
"""
    },
    shape="sentry_webhook",
    deploy_path="/app",
    project="4507310",
)

# --- case: naive-aware-datetime ------------------------------------------------------------

HANDLERS_SINCE = _edit(
    _edit(
        HANDLERS,
        '''        orders = [order for order in orders if order.status == status]
    return Response({"orders"''',
        '''        orders = [order for order in orders if order.status == status]
    if request.query.get("since"):
        try:
            since = datetime.fromisoformat(request.query["since"])
        except ValueError:
            raise HTTPError(400, "since must be an ISO 8601 timestamp") from None
        orders = [order for order in orders if order.created_at >= since]
    return Response({"orders"''',
    ),
    "from typing import Any\n",
    "from datetime import datetime\nfrom typing import Any\n",
)
HANDLERS_SINCE_FIXED = _edit(
    _edit(
        HANDLERS_SINCE,
        """            raise HTTPError(400, "since must be an ISO 8601 timestamp") from None
""",
        """            raise HTTPError(400, "since must be an ISO 8601 timestamp") from None
        if since.tzinfo is None:  # a timestamp without an offset is UTC
            since = since.replace(tzinfo=timezone.utc)
""",
    ),
    "from datetime import datetime\n",
    "from datetime import datetime, timezone\n",
)
TEST_API_SINCE = (
    TEST_API
    + """

def test_list_orders_since(client, repo):
    from datetime import datetime, timezone

    from orders_api.repository import LineItem

    repo.create("c-100", [LineItem("MUG-01", 1, 1450)], created_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
    repo.create("c-100", [LineItem("MUG-01", 1, 1450)], created_at=datetime(2026, 2, 5, tzinfo=timezone.utc))
    status, body = client.get("/orders", "since=2026-02-01T00:00:00Z")
    assert status == 200
    assert [order["id"] for order in body["orders"]] == [1002]
    assert client.get("/orders", "since=last-week")[0] == 400
"""
)
BUG_SINCE = "orders: filter the order list by creation time (?since=)"

NAIVE_AWARE = CaseSpec(
    id="web-handler-naive-aware-datetime",
    title="Listing orders with ?since= without a UTC offset raises TypeError",
    app=APP,
    bug_class="naive-aware-datetime",
    history=(
        *BASE,
        later_catalog("2026-02-09T13:00:00+00:00"),
        Commit(
            BUG_SINCE,
            MAYA,
            "2026-02-24T10:12:00+01:00",
            {"orders_api/handlers.py": HANDLERS_SINCE, "tests/test_api.py": TEST_API_SINCE},
        ),
        later_docs("2026-02-26T15:30:00+01:00"),
    ),
    gold=Gold("orders_api/handlers.py", "list_orders", BUG_SINCE),
    trigger=trigger(
        """
request("POST", "/orders", body={"customer_id": None, "items": [{"sku": "CAP-02", "quantity": 1}]})
request("GET", "/orders", "status=open&since=2026-02-25T00:00:00")
"""
    ),
    fix={"orders_api/handlers.py": HANDLERS_SINCE_FIXED},
    hidden={
        "tests/test_hidden_since.py": """
from datetime import datetime, timezone

from orders_api.repository import LineItem


def _two_orders(repo):
    repo.create(None, [LineItem("CAP-02", 1, 1800)], created_at=datetime(2026, 2, 24, 23, 0, tzinfo=timezone.utc))
    repo.create(None, [LineItem("CAP-02", 1, 1800)], created_at=datetime(2026, 2, 25, 1, 0, tzinfo=timezone.utc))


def test_since_without_offset_is_utc(client, repo):
    _two_orders(repo)
    status, body = client.get("/orders", "status=open&since=2026-02-25T00:00:00")
    assert status == 200
    assert [order["id"] for order in body["orders"]] == [1002]


def test_since_with_offset(client, repo):
    _two_orders(repo)
    status, body = client.get("/orders", "since=2026-02-25T00:00:00%2B02:00")
    assert status == 200
    assert [order["id"] for order in body["orders"]] == [1001, 1002]
"""
    },
    shape="sentry_api",
    deploy_path="/opt/orders-api/current",
    project="4507310",
)

# --- case: broken-rename --------------------------------------------------------------------

PRICING_RENAMED = _edit(
    PRICING,
    'def quote(order: Order, customer: Customer | None, country: str = "DE")',
    'def price_order(order: Order, customer: Customer | None, country: str = "DE")',
)
HANDLERS_RENAMED = _edit(
    _edit(
        HANDLERS,
        '    return Response({"order_id": order.id, **pricing.quote(order, customer, country)})\n',
        '    return Response({"order_id": order.id, **pricing.price_order(order, customer, country)})\n',
    ),
    "    totals = pricing.quote(order, customer, country)\n",
    "    totals = pricing.price_order(order, customer, country)\n",
)
HANDLERS_RENAMED_FIXED = _edit(
    HANDLERS_RENAMED,
    '    totals = pricing.quote(order, customer, order.country or "DE")\n',
    '    totals = pricing.price_order(order, customer, order.country or "DE")\n',
)
TEST_PRICING_RENAMED = TEST_PRICING.replace("pricing.quote(", "pricing.price_order(")
BUG_RENAME = "pricing: rename quote() to price_order(), as the billing service calls it"

BROKEN_RENAME = CaseSpec(
    id="web-handler-broken-rename",
    title="Order receipt fails: module 'orders_api.pricing' has no attribute 'quote'",
    app=APP,
    bug_class="broken-rename",
    history=(
        *BASE,
        Commit(
            BUG_RENAME,
            PRIYA,
            "2026-02-18T12:01:00+05:30",
            {
                "orders_api/pricing.py": PRICING_RENAMED,
                "orders_api/handlers.py": HANDLERS_RENAMED,
                "tests/test_pricing.py": TEST_PRICING_RENAMED,
            },
        ),
        later_catalog("2026-02-20T09:45:00+00:00"),
    ),
    gold=Gold("orders_api/handlers.py", "order_receipt", BUG_RENAME),
    trigger=LEDGER_STAND_IN
    + trigger(
        """
request("POST", "/orders", body={"customer_id": None, "items": [{"sku": "POSTER-A2", "quantity": 2}]})
request("POST", "/orders/1001/pay", body={"country": "FR"})
request("GET", "/orders/1001/receipt")
"""
    ),
    fix={"orders_api/handlers.py": HANDLERS_RENAMED_FIXED},
    hidden={
        "tests/test_hidden_receipt.py": """
def test_receipt_of_paid_order(client):
    _, order = client.post("/orders", {"items": [{"sku": "POSTER-A2", "quantity": 2}]})
    _, paid = client.post(f"/orders/{order['id']}/pay", {"country": "FR"})
    status, receipt = client.get(f"/orders/{order['id']}/receipt")
    assert status == 200
    assert receipt["lines"] == [{"sku": "POSTER-A2", "name": "Poster A2", "quantity": 2, "total_cents": 1800}]
    assert receipt["total_cents"] == paid["total_cents"] == (1800 + 495) * 120 // 100
    assert receipt["tax_cents"] == (1800 + 495) * 20 // 100


def test_receipt_of_open_order_is_409(client):
    _, order = client.post("/orders", {"items": [{"sku": "POSTER-A2", "quantity": 1}]})
    assert client.get(f"/orders/{order['id']}/receipt")[0] == 409
"""
    },
    shape="sentry_event",
    deploy_path="/home/deploy/orders-api/releases/20260301",
    project="4507310",
)

# --- case: unhandled-parse-error ------------------------------------------------------------

HANDLERS_LIMIT = _edit(
    _edit(
        HANDLERS,
        "HISTORY_SIZE = 20\n",
        "HISTORY_SIZE = 20\nMAX_HISTORY_SIZE = 100\n",
    ),
    """    orders = app.repo.for_customer(customer_id)[-HISTORY_SIZE:]
""",
    """    limit = int(request.query.get("limit", HISTORY_SIZE))
    limit = max(1, min(limit, MAX_HISTORY_SIZE))
    orders = app.repo.for_customer(customer_id)[-limit:]
""",
)
HANDLERS_LIMIT_FIXED = _edit(
    HANDLERS_LIMIT,
    """    limit = int(request.query.get("limit", HISTORY_SIZE))
""",
    """    try:
        limit = int(request.query.get("limit", HISTORY_SIZE))
    except ValueError:
        raise HTTPError(400, "limit must be an integer") from None
""",
)
TEST_API_LIMIT = (
    TEST_API
    + """

def test_customer_order_history_limit(client):
    for _ in range(3):
        client.post("/orders", {"customer_id": "c-100", "items": [{"sku": "MUG-01"}]})
    status, body = client.get("/customers/c-100/orders", "limit=2")
    assert status == 200
    assert [order["id"] for order in body["orders"]] == [1002, 1003]
    assert len(client.get("/customers/c-100/orders")[1]["orders"]) == 3
"""
)
BUG_LIMIT = "customers: let the account page ask for a shorter order history (?limit=)"

PARSE_ERROR = CaseSpec(
    id="web-handler-unhandled-parse-error",
    title="Customer order history crashes on ?limit=undefined (ValueError from int())",
    app=APP,
    bug_class="unhandled-parse-error",
    history=(
        *BASE,
        Commit(
            BUG_LIMIT,
            TOMAS,
            "2026-02-21T18:33:00-03:00",
            {"orders_api/handlers.py": HANDLERS_LIMIT, "tests/test_api.py": TEST_API_LIMIT},
        ),
        later_docs("2026-02-23T09:00:00+01:00"),
    ),
    gold=Gold("orders_api/handlers.py", "customer_orders", BUG_LIMIT),
    trigger=trigger(
        """
from orders_api.repository import Customer

application.repo.add_customer(Customer("c-5521", "jonas@example.com"))
request("POST", "/orders", body={"customer_id": "c-5521", "items": [{"sku": "CAP-02", "quantity": 1}]})
request("GET", "/customers/c-5521/orders", "limit=undefined")
"""
    ),
    fix={"orders_api/handlers.py": HANDLERS_LIMIT_FIXED},
    hidden={
        "tests/test_hidden_history_limit.py": """
def test_non_numeric_limit_is_a_bad_request(client):
    client.post("/orders", {"customer_id": "c-100", "items": [{"sku": "CAP-02", "quantity": 1}]})
    status, body = client.get("/customers/c-100/orders", "limit=undefined")
    assert status == 400
    assert "limit" in body["error"]


def test_numeric_limit_still_applies(client):
    for _ in range(4):
        client.post("/orders", {"customer_id": "c-100", "items": [{"sku": "CAP-02", "quantity": 1}]})
    status, body = client.get("/customers/c-100/orders", "limit=3")
    assert status == 200
    assert [order["id"] for order in body["orders"]] == [1002, 1003, 1004]
"""
    },
    shape="sentry_webhook",
    deploy_path="/srv/orders-api",
    project="4507310",
)

# --- case: wrong-operator (wrong value, main is red) ----------------------------------------

PRICING_AFTER_DISCOUNT = _edit(
    _edit(
        PRICING,
        """def shipping_cents(subtotal: int) -> int:
    if subtotal >= FREE_SHIPPING_CENTS:
        return 0""",
        '''def shipping_cents(subtotal: int, discount: int = 0) -> int:
    """Flat shipping unless the order, after discounts, reaches the free-shipping threshold."""
    if subtotal + discount >= FREE_SHIPPING_CENTS:
        return 0''',
    ),
    "    shipping = shipping_cents(subtotal)\n",
    "    shipping = shipping_cents(subtotal, discount)\n",
)
PRICING_AFTER_DISCOUNT_FIXED = _edit(
    PRICING_AFTER_DISCOUNT,
    "    if subtotal + discount >= FREE_SHIPPING_CENTS:\n",
    "    if subtotal - discount >= FREE_SHIPPING_CENTS:\n",
)
TEST_PRICING_AFTER_DISCOUNT = (
    TEST_PRICING
    + """

def test_discount_can_drop_order_below_free_shipping():
    items = (("CAP-02", 2, 1800), ("POSTER-A2", 2, 900))
    quote = pricing.quote(order(*items, coupon="SPRING5"), Customer("c-1", "a@x"))
    assert quote["subtotal_cents"] == 5400
    assert quote["discount_cents"] == 500
    assert quote["shipping_cents"] == 495
"""
)
BUG_SHIPPING = "pricing: the free-shipping threshold applies after discounts"

WRONG_OPERATOR = CaseSpec(
    id="web-handler-wrong-operator",
    title="Free shipping granted to orders that fall below the threshold after discounts",
    app=APP,
    bug_class="wrong-operator",
    kind="wrong-value",
    history=(
        *BASE,
        Commit(
            BUG_SHIPPING,
            TOMAS,
            "2026-02-25T11:20:00+00:00",
            {
                "orders_api/pricing.py": PRICING_AFTER_DISCOUNT,
                "tests/test_pricing.py": TEST_PRICING_AFTER_DISCOUNT,
            },
        ),
        later_docs("2026-02-25T16:45:00+01:00"),
    ),
    gold=Gold("orders_api/pricing.py", "shipping_cents", BUG_SHIPPING),
    failing_tests=("tests/test_pricing.py::test_discount_can_drop_order_below_free_shipping",),
    fix={"orders_api/pricing.py": PRICING_AFTER_DISCOUNT_FIXED},
    hidden={
        "tests/test_hidden_shipping.py": """
from orders_api import pricing


def test_threshold_is_net_of_discounts():
    assert pricing.shipping_cents(5200, 500) == pricing.FLAT_SHIPPING_CENTS
    assert pricing.shipping_cents(5600, 500) == 0
    assert pricing.shipping_cents(5000, 0) == 0
    assert pricing.shipping_cents(4999) == pricing.FLAT_SHIPPING_CENTS


def test_quote_through_the_api(client):
    items = [{"sku": "CAP-02", "quantity": 2}, {"sku": "POSTER-A2", "quantity": 2}]
    _, order = client.post("/orders", {"items": items, "coupon": "SPRING5"})
    status, quote = client.get(f"/orders/{order['id']}/quote")
    assert status == 200
    assert quote["shipping_cents"] == 495
    assert quote["total_cents"] == (5400 - 500 + 495) * 119 // 100
"""
    },
    project="4507310",
)

# --- case: escalate (infrastructure: the ledger's Redis is down) ----------------------------

README_LEDGER = (
    README_DEPLOY
    + """
In production the ledger lives on the payments Redis (`redis://ledger.internal:6390/2`),
reached through the local stunnel on port 6390.
"""
)

ESCALATE_INFRA = CaseSpec(
    id="web-handler-infrastructure",
    title="Paying an order fails: ConnectionRefusedError from the payments ledger",
    app=APP,
    bug_class="infrastructure",
    expect="escalate",
    history=(
        *BASE,
        later_catalog("2026-02-09T13:00:00+00:00"),
        Commit(
            "docs: where the payments ledger lives",
            PRIYA,
            "2026-02-27T09:10:00+05:30",
            {"README.md": README_LEDGER, "deploy/gunicorn.conf.py": GUNICORN_CONF},
        ),
    ),
    gold=None,
    trigger="""
import os

os.environ["ORDERS_LEDGER_URL"] = "redis://127.0.0.1:6390/2"
"""
    + trigger(
        """
request("POST", "/orders", body={"customer_id": None, "items": [{"sku": "HOODIE-GRY-M", "quantity": 1}]})
request("POST", "/orders/1001/pay", body={"country": "DE"})
"""
    ),
    shape="sentry_event",
    deploy_path="/opt/orders-api/current",
    project="4507310",
)

CASES: list[CaseSpec] = [
    NONE_ATTRIBUTE,
    MISSING_KEY,
    NAIVE_AWARE,
    BROKEN_RENAME,
    PARSE_ERROR,
    WRONG_OPERATOR,
    ESCALATE_INFRA,
]
