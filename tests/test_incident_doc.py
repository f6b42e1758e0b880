"""The incident plan ships with the code (C22): notification steps and both notice templates, each with the
items PIPL art. 57 requires."""

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "incident.md"


def test_the_incident_plan_has_the_notification_steps_and_both_templates():
    text = DOC.read_text(encoding="utf-8")
    for heading in ("## Steps", "## Template A — to the regulator", "## Template B — to the people affected"):
        assert heading in text
    regulator, people = text.split("## Template A")[1].split("## Template B")
    # PIPL art. 57: kinds of information, cause and possible harm, remedies taken, what people can do, contact.
    for template in (regulator, people):
        for item in ("个人信息", "原因", "危害", "补救措施", "您可以采取的措施" if template is people else "减轻危害",
                     "个人信息保护负责人"):
            assert item in template, item
    assert "SHOP_SECURITY_LOG_RETENTION_DAYS" in text and "180" in text
