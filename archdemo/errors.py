"""The one error a visitor is meant to read: bad input, said in a sentence they can act on."""


class InputError(ValueError):
    """Bad user input; the message is meant to be shown to the user as it is."""
