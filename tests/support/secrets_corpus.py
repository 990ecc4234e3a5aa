"""A corpus of fake secrets and personal data, each of a kind the scrubber must recognise.

Every value is made up (AWS's documented example key, test card numbers, fictional 555 phone
numbers, `example` domains); none grants anything. `FREE` values are recognised by their form
wherever they stand; `KEYED` values only by the sensitive key they are stored under, as Sentry
recognises a password.
"""

from __future__ import annotations

_B62 = "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5bC7dE9fG2hJ4kL6mN8pQ0rS2tU4vW6xY8z"

FREE: dict[str, str] = {
    "aws_access_key": "AKIAIOSFODNN7EXAMPLE",
    "github_pat": "ghp_" + _B62[:36],
    "github_oauth": "gho_" + _B62[1:37],
    "github_app": "ghs_" + _B62[2:38],
    "slack_bot_token": "xoxb-123456789012-1234567890123-" + _B62[:24].lower(),
    "slack_webhook": "https://hooks.slack.com/services/T0ABCDE12/B0FGHIJ34/" + _B62[:24],
    "stripe_live_key": "sk_live_" + _B62[3:27],
    "jwt": (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    ),
    "pem_private_key": (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA"
        + _B62[:40]
        + "\n-----END RSA PRIVATE KEY-----"
    ),
    "gitlab_pat": "glpat-" + _B62[5:27],
    "sendgrid_key": "SG." + _B62[:22] + "." + _B62[22:65],
    "twilio_api_key": "SK" + "0123456789abcdef0123456789abcdef",
    "twilio_account_sid": "AC" + "fedcba9876543210fedcba9876543210",
    "mailchimp_key": "0123456789abcdef0123456789abcdef-us12",
    "telegram_bot_token": "123456789:" + _B62[:35],
    "square_oauth_secret": "sq0csp-" + _B62[:43],
    "pypi_token": "pypi-AgEIcHlwaS5vcmc" + _B62[:72],
    "bearer_header": "Authorization: Bearer 9f2kLmQ7rT1vXw3zYb5nCd8e",
    "basic_header": "Authorization: Basic YWxpY2U6czNjcjN0LXBhc3M=",
    "sentry_dsn": "https://4f1e2d3c4b5a69788796a5b4c3d2e1f0@o123456.ingest.sentry.io/4505",
    "postgres_url": "postgresql://shop:Pg-s3cret-99@db.internal:5432/orders",
    "redis_url": "redis://:R3dis-pass-42@cache.internal:6379/0",
    "mongodb_url": "mongodb+srv://reporter:M0ngo-pass-7@cluster0.example.net/app",
    "password_in_text": "login failed for password=Tr0ub4dor-and-3",
    "card_visa": "4111 1111 1111 1111",
    "card_mastercard": "5555555555554444",
    "card_amex": "3782-822463-10005",
    "email": "jane.doe+billing@customer-example.com",
    "phone_us": "+1 415-555-0132",
    "phone_uk": "+44 20 7946 0958",
}

KEYED: dict[str, str] = {
    "password": "hunter2-Correct",
    "db_password": "Sup3r-Db-Pass",
    "api_key": "k3y-1234-abcd-5678",
    "auth_token": "opaque-Auth-Value-77",
    "sessionid": "s3ss10n-0a1b2c3d",
    "csrftoken": "csrf-9z8y7x6w",
    "private_key": "pk-material-0042",
    "ip_address": "203.0.113.77",
}

ALL: dict[str, str] = {**FREE, **KEYED}


def values_in(value: str) -> list[str]:
    """The secret parts of a corpus entry: a header's or a sentence's token, not its words."""
    for prefix in ("Authorization: Bearer ", "Authorization: Basic ", "login failed for password="):
        if value.startswith(prefix):
            return [value.removeprefix(prefix)]
    if "://" in value and "@" in value and not value.startswith("https://hooks"):
        userinfo = value.split("://", 1)[1].split("@", 1)[0]
        return [userinfo.split(":")[-1]]
    if value.startswith("-----BEGIN"):
        return [value.splitlines()[1]]
    return [value]
