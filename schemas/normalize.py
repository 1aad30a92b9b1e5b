"""Normalising what people type: Persian (۰–۹) and Arabic-Indic (٠–٩) digits, separators."""

_DIGITS = {ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")})
_DIGITS.update({ord("٫"): ".", ord("،"): ",", ord("٬"): ","})


def ascii_digits(text: str) -> str:
    """`text` with every Persian or Arabic-Indic digit (and decimal mark) in ASCII."""
    return text if text.isascii() else text.translate(_DIGITS)  # translate is slow even with nothing to do


def persian_digits(text: str) -> str:
    """ASCII digits shown as Persian digits, for people reading Persian."""
    return text.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
