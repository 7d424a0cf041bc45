"""Documents are looked up in the form intake stores them."""

import pytest

from bureau_gateway.documents import normalise_document


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("70000001F", "70000001F"),
        ("70.000.001-f", "70000001F"),
        (" 700 000 00\t159 ", "70000000159"),
        ("700.000.001-59", "70000000159"),
        ("sndapp80a01h501m", "SNDAPP80A01H501M"),
        ("7/000/000/001", "7000000001"),
        ("", ""),
        (" .-/ ", ""),
    ],
)
def test_separators_and_case_are_removed_as_intake_does(raw, normalised):
    assert normalise_document(raw) == normalised


def test_only_ascii_letters_are_upper_cased():
    # The dotless i would upper-case to "I" and let a look-alike match another applicant.
    dotless_i = "\u0131"
    assert normalise_document(dotless_i) == dotless_i
