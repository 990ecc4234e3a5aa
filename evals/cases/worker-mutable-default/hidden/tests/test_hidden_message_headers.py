from mailer.messages import build_message


def test_messages_do_not_share_headers():
    digest = build_message("a@example.com", "Digest", "x", unsubscribe_url="https://u/1")
    receipt = build_message("b@example.com", "Receipt", "y")
    assert digest.headers == {"X-Mailer": "tasklane-mailer", "List-Unsubscribe": "<https://u/1>"}
    assert receipt.headers == {"X-Mailer": "tasklane-mailer"}
    receipt.headers["X-Test"] = "1"
    assert "X-Test" not in build_message("c@example.com", "Other", "z").headers


def test_extra_headers_are_merged_and_not_mutated():
    extra = {"Message-ID": "<7@tasklane.io>"}
    message = build_message("a@example.com", "Hi", "x", headers=extra)
    assert message.headers["Message-ID"] == "<7@tasklane.io>"
    assert message.headers["X-Mailer"] == "tasklane-mailer"
    assert extra == {"Message-ID": "<7@tasklane.io>"}
