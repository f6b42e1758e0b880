"""What a commercial message carries (C21, NTM art. 16, CPL art. 29): who sends it and a free one-click way out.
No database."""

from __future__ import annotations


def unsubscribe_url(public_url: str, token: str) -> str:
    """The one-click link that ends marketing consent for the recipient (every sender, at once)."""
    return f"{public_url.rstrip('/')}/v1/unsubscribe/{token}"


def compose(*, sender: str, subject: str, body: str, unsubscribe_url: str) -> dict[str, str]:
    """The message as sent: the sender named in the subject and the footer, and the unsubscribe link."""
    return {"subject": f"【{sender}】{subject}",
            "text": f"{body}\n\n——\n发件人：{sender}\n不想再收到促销信息？点击即可退订（免费）：{unsubscribe_url}",
            "list_unsubscribe": f"<{unsubscribe_url}>"}
