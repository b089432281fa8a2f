"""The `user` fixture's quick looks (tests/waiting.py): they only wait; NiceGUI still gives the verdict."""

import pytest
from nicegui import ui
from nicegui.testing import User


async def test_a_text_that_comes_after_a_services_answer_is_seen(user: User) -> None:
    await user.open("/login?email=nobody@example.org")
    user.find("Password").type("not the password at all")
    user.find(kind=ui.button, content="Log in").click()
    await user.should_see("That email and password do not match an account.")


async def test_a_text_that_never_comes_fails_with_nicegui_s_own_message(user: User) -> None:
    await user.open("/login")
    with pytest.raises(AssertionError, match=r"expected to see at least one .*Nothing of the kind"):
        await user.should_see("Nothing of the kind is on this page")


async def test_a_text_that_stays_fails_should_not_see_with_nicegui_s_own_message(user: User) -> None:
    await user.open("/login")
    with pytest.raises(AssertionError, match=r"expected not to see any .*Log in"):
        await user.should_not_see(kind=ui.button, content="Log in")
