"""Role capabilities: one table of who may do what, checked on unsaved users (no database)."""

import pytest

from yixiang.accounts import permissions
from yixiang.accounts.models import Role, User

ROLES = {
    "rep": User(pk=1, role=Role.REP),
    "lead": User(pk=2, role=Role.LEAD),
    "director": User(pk=3, role=Role.DIRECTOR),
    "admin": User(pk=4, role=Role.ADMIN),
    "superuser rep": User(pk=5, role=Role.REP, is_superuser=True),
}


@pytest.mark.parametrize(
    ("capability", "allowed"),
    [
        (permissions.is_admin, {"admin", "superuser rep"}),
        (permissions.can_manage, {"lead", "director", "admin", "superuser rep"}),
        (permissions.may_record_regional_event, {"lead", "director", "admin", "superuser rep"}),
        (permissions.keeps_incentive_inputs, {"director", "admin", "superuser rep"}),
        (permissions.may_assign_owner, {"lead", "director", "admin"}),
    ],
)
def test_each_capability_belongs_to_its_roles(capability, allowed):
    assert {name for name, user in ROLES.items() if capability(user)} == allowed


def test_a_campaign_is_launched_by_its_author_or_an_administrator():
    rep, other = ROLES["rep"], User(pk=9, role=Role.REP)
    assert permissions.may_launch_campaign(rep, created_by_id=rep.pk)
    assert not permissions.may_launch_campaign(other, created_by_id=rep.pk)
    assert permissions.may_launch_campaign(ROLES["admin"], created_by_id=rep.pk)
