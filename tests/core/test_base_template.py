"""The base template's navigation: the phone menu button names the current page, and the base template's
own variables do not leak into a page's blocks (a page's `current` was once shadowed by the nav's)."""
from flask import render_template_string
from flask_login import login_user

from portal.accounts.models import Role
from tests.helpers import make_user

PAGE = '{% extends "base.html" %}{% block content %}<p id="page">{{ current }}|{{ nav_current }}</p>{% endblock %}'


def test_menu_button_names_the_page_and_page_variables_are_its_own(app):
    user = make_user(Role.district_admin)
    with app.test_request_context("/tickets/"):
        login_user(user)
        html = render_template_string(PAGE, current="本页的值")
    assert '<p id="page">本页的值|</p>' in html
    assert '<span class="nav-toggle-current">工单</span>' in html
    assert 'aria-controls="main-nav"' in html and '<nav class="main-nav" id="main-nav"' in html
    assert "js/nav.js" in html


def test_a_page_outside_the_menu_has_no_current_label(app):
    user = make_user(Role.district_admin)
    with app.test_request_context("/accounts/users/999"):
        login_user(user)
        html = render_template_string(PAGE, current="x")
    assert "nav-toggle-current" not in html and 'class="nav-toggle"' in html


def test_no_menu_for_residents(app):
    with app.test_request_context("/"):
        html = render_template_string(PAGE, current="x")
    assert "nav-toggle" not in html and "main-nav" not in html and "nav.js" not in html
