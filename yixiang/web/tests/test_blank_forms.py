"""Forms rendered once (yixiang.blank_forms) give exactly the HTML the field loop gives."""

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from yixiang.blank_forms import blank_form_fields
from yixiang.customers.forms import ContactForm
from yixiang.pipeline.forms import ProfileForm, ReleaseForm, SignForm
from yixiang.pipeline.models import NeedCategory
from yixiang.pipeline.views import _profile_fields

LOOP = '{% for field in form %}{% include "customers/_field.html" %}{% endfor %}'


def _direct(form) -> str:
    from django.template import engines

    return engines["django"].from_string(LOOP).render({"form": form})


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_same_html_as_the_field_loop(language):
    day = dt.date(2026, 3, 4)
    with translation.override(language):
        assert blank_form_fields(ContactForm) == _direct(ContactForm())
        assert blank_form_fields(ReleaseForm) == _direct(ReleaseForm())
        signed = blank_form_fields(SignForm, day, initial={"signed_on": day})
        assert signed == _direct(SignForm(initial={"signed_on": day}))
        assert 'value="2026-03-04"' in signed


def test_each_language_its_own_html():
    with translation.override("en"):
        en = blank_form_fields(ContactForm)
    with translation.override("zh-hans"):
        zh = blank_form_fields(ContactForm)
    assert en != zh
    assert "Contact name" in en


@pytest.mark.django_db
def test_profile_fields_follow_categories_and_values():
    first = NeedCategory.objects.create(name="子女教育")
    with translation.override("en"):
        before = _profile_fields(None)
        assert before == render_to_string("_form_fields.html", {"form": ProfileForm(initial={})})
        second = NeedCategory.objects.create(name="养老规划")
        after = _profile_fields(None)  # a new category shows at once
        assert "养老规划" in after and "养老规划" not in before
        profile = type("P", (), {"need_category_id": second.pk, "internet_awareness": ""})()
        chosen = _profile_fields(profile)
        assert f'<option value="{second.pk}" selected>' in chosen
        assert chosen == _direct(ProfileForm(initial={"need_category": second.pk, "internet_awareness": ""}))
    assert first.pk != second.pk
