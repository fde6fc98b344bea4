import pytest

from connec.tasks import delivery_send_task


@pytest.fixture
def queued(monkeypatch):
    """The delivery ids that tasks were queued for, instead of a broker."""
    names = []

    def queue(delivery_id, *rest):
        names.append(delivery_id)

    monkeypatch.setattr(delivery_send_task, "delay", queue)
    return names
