import pytest
from django.core.management import CommandError, call_command

from openiop.accounts.models import User
from openiop.core.roles import Role


def test_bootstrap_creates_organization_and_sysadmin(db, monkeypatch, capsys):
    monkeypatch.setenv("OPENIOP_ADMIN_PASSWORD", "a-long-and-unusual-passphrase")
    call_command("bootstrap", "--organization", "Lakeside IOP", "--username", "admin", "--email", "a@example.org")
    admin = User.objects.get(username="admin")
    assert admin.role == Role.SYSADMIN
    assert admin.organization is not None
    assert admin.organization.name == "Lakeside IOP"
    assert admin.check_password("a-long-and-unusual-passphrase")
    assert "Created admin" in capsys.readouterr().out


def test_bootstrap_rejects_weak_password_and_creates_nothing(db, monkeypatch):
    monkeypatch.setenv("OPENIOP_ADMIN_PASSWORD", "12345678")
    with pytest.raises(CommandError):
        call_command("bootstrap", "--organization", "Lakeside IOP", "--username", "admin", "--email", "a@example.org")
    assert not User.objects.exists()
