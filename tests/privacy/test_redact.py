"""Redaction of card numbers, e-mail addresses and phone numbers, and the pipeline stage."""

from __future__ import annotations

import logging

import pytest

import app.privacy.redact as redact_module
from app.events import Committed, Discarded, Partial, Segment
from app.pipeline.stages import StageRunner
from app.privacy.redact import (
    ALL_KINDS,
    CARD,
    EMAIL,
    FAILED,
    PHONE,
    Redacted,
    RedactStage,
    luhn_valid,
    redact,
)
from audio.sides import Side

# --- Luhn ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "digits", ["4111111111111111", "5500000000000004", "378282246310005", "6011111111111117"]
)
def test_luhn_accepts_real_test_card_numbers(digits: str) -> None:
    assert luhn_valid(digits)


@pytest.mark.parametrize("digits", ["4111111111111112", "5500000000000005", "378282246310006", ""])
def test_luhn_rejects_a_changed_digit(digits: str) -> None:
    assert not luhn_valid(digits)


# --- cards ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "4111.1111.1111.1111",
        "5500 0000 0000 0004",
        "3782 822463 10005",  # Amex, 15 digits
        "6011 1111 1111 1117",
        "4,111,111,111,111,111",  # as Whisper sometimes formats a long number
    ],
)
def test_written_card_numbers(number: str) -> None:
    result = redact(f"My card is {number}, thanks.")
    assert result == Redacted("My card is [card number], thanks.", (CARD,))


@pytest.mark.parametrize(
    "spoken",
    [
        "four one one one one one one one one one one one one one one one",
        "Four, one, one, one, one, one, one, one, one, one, one, one, one, one, one, one",
        "four-one-one-one-one-one-one-one-one-one-one-one-one-one-one-one",
        "four triple one, one one one one, one one one one, one one one one",
        "double five triple oh triple oh triple oh triple oh oh four",  # 5500 0000 0000 0004
        "five five zero zero, zero zero zero zero, zero zero zero zero, zero zero zero four",
        "three seven eight two, eight two two four, six three one, oh oh oh five",  # Amex
        "six o one one, one one one one, one one one one, one one one seven",
        "4111 one one one one one one one one one one one one",  # mixture
        "4111 1111 one one one one 1111",
        "6011, double one, double one, double one, double one, one one one seven",
    ],
)
def test_spoken_card_numbers(spoken: str) -> None:
    result = redact(f"It's {spoken}. Expiry next year.")
    assert result == Redacted("It's [card number]. Expiry next year.", (CARD,))


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",
        "4111-1111-1111-1112",
        "4111111111111112",
        "5500 0000 0000 0005",
        "four one one one one one one one one one one one one one one two",
        "four one one one, one one one one, one one one one, one one one two",
        "double five triple oh triple oh triple oh triple oh oh five",
    ],
)
def test_luhn_invalid_card_numbers_are_left_alone(text: str) -> None:
    # 16 digits that fail Luhn are not a card, and too long to be a phone number.
    assert redact(text) == Redacted(text, ())


def test_a_luhn_valid_card_is_a_card_not_a_phone() -> None:
    assert redact("3782 822463 10005").found == (CARD,)  # 15 digits: phone length too
    assert redact("three seven eight two eight two two four six three one oh oh oh five").found == (
        CARD,
    )


def test_a_filler_word_next_to_the_digits_stays_outside_the_placeholder() -> None:
    assert redact("Oh, 4111 1111 1111 1111").text == "Oh, [card number]"
    assert redact("that one 4111 1111 1111 1111 oh and").text == "that one [card number] oh and"


# --- e-mail addresses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Send it to jane.doe+work@example.co.uk, please.", "Send it to [email], please."),
        ("Mail: J.Doe@Example.COM", "Mail: [email]"),
        ("<support-team@calm-line.io>", "<[email]>"),
        ("mailto:jdoe85@example.com", "mailto:[email]"),
        ("it's jane.doe @ example.com", "it's [email]"),
    ],
)
def test_written_email_addresses(text: str, expected: str) -> None:
    assert redact(text) == Redacted(expected, (EMAIL,))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It's jane dot doe at example dot com.", "It's [email]."),
        ("jane underscore doe at gmail dot com", "[email]"),
        ("send it to jdoe at example.com please", "send it to [email] please"),
        ("Jane dot Doe at example dot co dot uk today", "[email] today"),
        ("j dash doe plus billing at mail dot example dot org", "[email]"),
        ("jdoe85 at outlook dot com", "[email]"),
    ],
)
def test_spoken_email_addresses(text: str, expected: str) -> None:
    assert redact(text) == Redacted(expected, (EMAIL,))


@pytest.mark.parametrize(
    "text",
    [
        "I'll be at home at six",
        "We met at the office dot party",  # "party" is no top-level domain
        "I looked at the dot com bubble",
        "my email is at gmail dot com",  # no local part
        "reach me at example dot com",
        "she is at work.",
        "a dot at the end",
    ],
)
def test_at_in_ordinary_speech_is_not_an_email(text: str) -> None:
    assert redact(text) == Redacted(text, ())


# --- phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "+44 20 7946 0958",
        "+1 (415) 555-2671",
        "+44 (0)20 7946 0958",
        "+33 6 12 34 56 78",
        "0044 20 7946 0958",
        "(415) 555-2671",
        "(415)555-2671",
        "415-555-2671",
        "415.555.2671",
        "415 555 2671",
        "4155552671",
        "1-800-555-1234",
        "555-2671",
        "020 7946 0958",
        "(020) 7946 0958",
        "06 12 34 56 78",
        "07700 900123",
        "0612345678",
    ],
)
def test_written_phone_numbers(number: str) -> None:
    result = redact(f"Call me on {number}. Thanks")
    assert result == Redacted("Call me on [phone number]. Thanks", (PHONE,))


@pytest.mark.parametrize(
    "spoken",
    [
        "four one five five five five two six seven one",
        "four one five, five five five, two six seven one",
        "four one five. Five five five. Two six seven one",
        "oh two oh, seven nine four six, oh nine five eight",
        "double oh four four, two oh, seven nine four six, oh nine five eight",
        "four one five triple five twenty six seventy one",
        "one eight hundred five five five one two three four",
        "4 1 5 5 5 5 2 6 7 1",
        "415 five five five 2671",
        "five five five two six seven one",  # 7 digits
    ],
)
def test_spoken_phone_numbers(spoken: str) -> None:
    result = redact(f"My number is {spoken}, okay?")
    assert result == Redacted("My number is [phone number], okay?", (PHONE,))


def test_the_placeholder_replaces_exactly_the_number() -> None:
    assert redact("Oh, 415 555 2671.").text == "Oh, [phone number]."
    assert redact("(+1 415 555 2671)").text == "([phone number])"
    assert redact("room 12 020 7946 0958").text == "room 12 [phone number]"


# --- what must not be redacted -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Can we talk at 10:30 or at 3 pm?",
        "It's 10.30 now, call back at 3.15 pm",
        "The charge was $1,299.99, not 2500 dollars.",
        "They took 2,500,000 from the fund",
        "It happened in 2024, on 12/05/2024, or 2024-05-12.",
        "on 01.05.2024 10 people called",
        "ticket 45213, error 404, version 11.2.3, order number 12345",
        "Order #123456789 shipped",
        "The server 192.168.1.1 and 10.0.0.254 are down",
        "Version 2.14.1234 is out",
        "I am 45 years old and have 3 kids",
        "from 9 to 5, 7 days a week",
        "one two three, let's go",
        "I paid twenty five ninety nine for it",
        "four hundred and five",
        "4111 1111 1111 1112",
        "1234 5678 9012 3456",
        "I called twenty, thirty, forty, fifty times",
        "born on twelve oh five nineteen eighty",  # a date, not read digit by digit
    ],
)
def test_ordinary_numbers_are_not_redacted(text: str) -> None:
    assert redact(text) == Redacted(text, ())


# --- several kinds, the kinds filter -------------------------------------------------------


def test_several_kinds_in_one_line_in_order_of_appearance() -> None:
    text = (
        "Card 4111 1111 1111 1111, phone (415) 555-2671, mail jane@example.com, "
        "backup card five five double oh, double oh double oh, double oh double oh, "
        "oh oh oh four, and 020 7946 0958 at 10:30"
    )
    result = redact(text)
    assert result.text == (
        "Card [card number], phone [phone number], mail [email], "
        "backup card [card number], and [phone number] at 10:30"
    )
    assert result.found == (CARD, PHONE, EMAIL, CARD, PHONE)


def test_numbers_side_by_side_split_at_a_comma() -> None:
    result = redact("4111 1111 1111 1111, 415 555 2671")
    assert result == Redacted("[card number], [phone number]", (CARD, PHONE))


def test_digits_inside_an_email_address_are_not_a_phone() -> None:
    assert redact("4155552671@txt.example.net") == Redacted("[email]", (EMAIL,))


def test_kinds_filter() -> None:
    text = "4111 1111 1111 1111 or 415-555-2671 or jane@example.com"
    assert redact(text, kinds=[PHONE]) == Redacted(
        "4111 1111 1111 1111 or [phone number] or jane@example.com", (PHONE,)
    )
    assert redact(text, kinds={CARD, EMAIL}) == Redacted(
        "[card number] or 415-555-2671 or [email]", (CARD, EMAIL)
    )
    assert redact(text, kinds=()) == Redacted(text, ())
    assert redact(text).found == (CARD, PHONE, EMAIL)
    assert set(ALL_KINDS) == {CARD, EMAIL, PHONE}


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown kinds"):
        redact("x", kinds=["ssn"])
    with pytest.raises(ValueError, match="unknown kinds"):
        RedactStage(kinds="email")  # a string is a collection of letters, not of kinds


def test_empty_and_clean_text() -> None:
    assert redact("") == Redacted("", ())
    assert redact("Thanks for calling, have a good day!") == Redacted(
        "Thanks for calling, have a good day!", ()
    )


def test_redaction_is_idempotent() -> None:
    once = redact("card 4111 1111 1111 1111, jane@example.com, 415-555-2671").text
    assert redact(once) == Redacted(once, ())


# --- the pipeline stage --------------------------------------------------------------------


def _segment(text: str) -> Segment:
    return Segment(id=1, speaker=Side.CLIENT, start=1.0, end=3.0, text=text)


def test_stage_redacts_committed_and_partial_and_passes_the_rest() -> None:
    segment = _segment("my card is 4111 1111 1111 1111")
    partial = Partial(Side.CLIENT, 3.5, "and my email is jane dot doe at example dot com")
    cleared = Partial(Side.AGENT, 4.0, "")
    discarded = Discarded(Side.AGENT, 0.0, 0.5, "crosstalk")
    other = object()

    out = RedactStage()([Committed(segment), partial, cleared, discarded, other])

    assert len(out) == 5
    assert out[0].segment is segment  # changed in place: nobody keeps the original text
    assert segment.text == "my card is [card number]"
    assert out[1] == Partial(Side.CLIENT, 3.5, "and my email is [email]")
    assert partial.text.endswith("example dot com")  # frozen event: a new one is built
    assert out[2] is cleared
    assert out[3] is discarded
    assert out[4] is other


def test_stage_kinds() -> None:
    segment = _segment("card 4111 1111 1111 1111, phone 415-555-2671")
    RedactStage(kinds=[CARD])([Committed(segment)])
    assert segment.text == "card [card number], phone 415-555-2671"


def test_stage_fails_closed(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    def broken(text: str, kinds=ALL_KINDS) -> Redacted:
        raise RuntimeError("boom")

    monkeypatch.setattr(redact_module, "redact", broken)
    segment = _segment("my card is 4111 1111 1111 1111")
    discarded = Discarded(Side.AGENT, 0.0, 0.5, "noise")
    with caplog.at_level(logging.ERROR, logger="app.privacy.redact"):
        out = StageRunner([RedactStage()]).process(
            [Committed(segment), Partial(Side.CLIENT, 3.5, "4111"), discarded]
        )

    assert segment.text == FAILED
    assert out[0].segment is segment
    assert out[1].text == FAILED
    assert out[2] is discarded
    failures = [r for r in caplog.records if r.name == "app.privacy.redact"]
    assert len(failures) == 2
    assert all(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in failures)
    assert "4111" not in caplog.text  # the log does not leak the text either


def test_stage_fails_closed_on_text_that_breaks_redaction() -> None:
    segment = _segment("fine")
    segment.text = None  # type: ignore[assignment]  # not a string: redaction raises
    RedactStage()([Committed(segment)])
    assert segment.text == FAILED
