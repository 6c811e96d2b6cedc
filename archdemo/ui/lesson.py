"""The guided lesson: a few "try this, notice that, here is why" steps for every tab, as data.

A step names its input (a sentence, a prompt, a digit, a noise level, a reader, a head), the picture to
look at (an elem_id) and, where the lesson is a comparison, another tab it opens with the same input.
``archdemo.ui.guide`` turns the steps into buttons and links (``?step=<id>``). Every number said here was
read off the bundled models, and ``tests/test_lesson_claims.py`` checks each one against them, so a
retrained model that changes its mind fails a test instead of leaving the lesson wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

TABS = ("cnn", "autoencoder", "rnn", "transformer", "write", "compare")
TAB_TITLES = dict(zip(TABS, ("CNN", "Autoencoder", "RNN", "Transformer", "Write", "Compare"), strict=True))


@dataclass(frozen=True)
class Step:
    id: str  # its name in links: ?step=<id>
    tab: str  # the tab whose list shows it
    title: str  # the button's words
    try_: str  # what the click loads, said as what to do
    notice: str  # what shows, and where
    why: str  # the idea behind it
    look: str  # elem_id of the picture to look at (the card's "Show me" jumps to it)
    opens: str = ""  # another tab to switch to, loaded with the same input ("" = this tab)
    text: str = ""  # a sentence for the RNN, Transformer or Compare tab
    reader: str = ""  # the Transformer tab's reader ("pretrained_transformer" or "transformer")
    layer: str = ""  # the Transformer tab's layer and head menus
    head: str = ""
    digit: str = ""  # a picture for the pad: "digits/7", "hard/<file stem>" or "drawn/x"
    noise: float | None = None  # the Autoencoder tab's noise level and kind
    kind: str = ""
    prompt: str = ""  # the Write tab's prompt, length and temperature (the seed stays 0)
    length: int | None = None
    temperature: float | None = None

    @property
    def target(self) -> str:
        """The tab that shows this step's input."""
        return self.opens or self.tab


NOT_BAD = "It's not bad, I'd say!"
CONTRAST = "The acting is wonderful, but the story is a mess."
SWAPPED = "The story is a mess, but the acting is wonderful."
NOT_BORING = "The film is not boring at all."
HARD_NINE = "hard/9_read_as_4_(test_digit_359)"
PRE, SCRATCH = "pretrained_transformer", "transformer"

STEPS = [
    # ---------------------------------------------------------------- CNN: every digit reader at pen-up
    Step("cnn-seven", "cnn", "A clear 7", "Put an MNIST 7 on the pad.",
         "All four readers under the pad say 7, each at 95% or more.",
         "A clean, centred digit like the 60,000 they trained on is easy for every family. "
         "The differences show on harder drawings: the next steps.",
         "digit-readers", digit="digits/7"),
    Step("cnn-two", "cnn", "A 2, read row by row", "Put a 2 on the pad.",
         "In the row-reading LSTM's picture (its belief after each row of pixels), it says 7 from row 12 "
         "to row 21 and changes to 2 at row 22, where the bottom stroke begins.",
         "An LSTM reads the rows in order and must guess from the rows so far: the top of a 2 is the top "
         "of a 7. The CNN and the Vision Transformer see the whole picture at once.",
         "digit-digit_rnn-inside", digit="digits/2"),
    Step("cnn-six", "cnn", "A 6 only one reader gets right", "Put an MNIST 6 that the CNN misreads on the pad.",
         "The CNN reads it as 0, and so do the Vision Transformer and the autoencoder's probe; only the "
         "row-reading LSTM says 6 (94%).",
         "Different architectures make different mistakes, and the best one on average (the CNN, 99.65% of "
         "the test digits) is not the best on every digit. Several unlike models voting together (an "
         "ensemble) usually beat the best of them alone.",
         "digit-readers", digit="hard/6_read_as_0_(test_digit_445)"),
    Step("cnn-five", "cnn", "A 5 the autoencoder's code gets wrong", "Put an MNIST 5 on the pad.",
         "The CNN, the LSTM and the Vision Transformer read 5; the probe on the autoencoder's code says 6, "
         "and is almost sure of it.",
         "The autoencoder learned its 64-number code to redraw pixels, never to tell digits apart. A 5 and a "
         "6 share most of their ink, so their codes lie close together, and one straight cut (the linear "
         "probe) cannot always separate them.",
         "digit-autoencoder_probe", digit="digits/5"),
    Step("cnn-x", "cnn", "Not a digit: an X", "Put a large X on the pad.",
         "Every reader still names a digit, between 60% and 94% sure: the CNN 4, the other three 8.",
         "A classifier shares its certainty among the ten digits it knows; it has no answer for "
         "\"none of these\". Its confidence is not a measure of whether the input is a digit at all.",
         "digit-readers", digit="drawn/x"),
    # ---------------------------------------------------------------- Autoencoder
    Step("ae-noise", "autoencoder", "Noise the CNN cannot read through", "A 7 with Gaussian noise at 0.5.",
         "Under the pictures: PSNR goes from 9.3 dB (noisy) to 21.5 dB (denoised), and the CNN reads the "
         "noisy 7 as an 8 (100%) but the denoised one as a 7.",
         "PSNR (peak signal-to-noise ratio) measures how close a picture is to the clean one, in decibels: "
         "10 dB more means a tenth of the squared error. The 64-number code has room for the digit's shape, "
         "not for the noise, so the noise does not survive the trip through it.",
         "ae-metrics", digit="digits/7", noise=0.5, kind="gaussian"),
    Step("ae-louder", "autoencoder", "Noise as strong as the ink", "The same 7 with noise at 1.0.",
         "The denoised 7 falls to 16.2 dB and the CNN is only 46% sure of it.",
         "With noise as strong as the strokes, the code cannot tell every stroke from noise, and the "
         "rebuild gets blurry where the encoder had to guess.",
         "ae-output", digit="digits/7", noise=1.0, kind="gaussian"),
    Step("ae-salt", "autoencoder", "Most pixels flipped", "Salt-and-pepper noise at 0.8 on the 7.",
         "The rebuild reaches only 12.3 dB, and the CNN reads it as an 8 (71%).",
         "Denoising works while the corruption leaves enough of the digit to find its code. Past that, "
         "the decoder still draws something digit-like, but a different digit.",
         "ae-output", digit="digits/7", noise=0.8, kind="salt_pepper"),
    Step("ae-patch", "autoencoder", "A piece missing", "Blank a patch of the 7 (level 0.5).",
         "PSNR rises from 14.2 dB to 17.4 dB, and the CNN grows surer of the 7 (63% before, 75% after).",
         "Nothing of the missing piece reaches the code; the decoder draws it back from what 7s usually "
         "look like. Filling in a gap this way is called inpainting.",
         "ae-output", digit="digits/7", noise=0.5, kind="patch"),
    Step("ae-nine", "autoencoder", "Denoising changes the CNN's mind", "The 9 that the CNN misreads, noise 0.5.",
         "The CNN reads the clean digit as a 4 (59%) but the denoised one as a 9 (89%).",
         "The rebuild pulls an unusual drawing towards the typical digits the autoencoder was trained on; "
         "here that makes it easier to read than the original.",
         "ae-metrics", digit=HARD_NINE, noise=0.5, kind="gaussian"),
    # ---------------------------------------------------------------- RNN
    Step("rnn-not-bad", "rnn", "\"not bad\", word by word", f"Read \"{NOT_BAD}\"",
         "In 'Belief while reading' the line climbs to 0.85 at \"'s\", falls to 0.10 at \"not\" and never "
         "recovers: 30% positive, a negative verdict.",
         "This LSTM learned \"not\" as a sign of a bad review (in its training phrases it mostly is), but "
         "not that \"not bad\" is mild praise: the drop at \"not\" is never undone by \"bad\".",
         "rnn-belief", text=NOT_BAD),
    Step("rnn-not-bad-compare", "rnn", "...and every other reader", f"Open Compare with \"{NOT_BAD}\"",
         "Only the pretrained Transformer says positive; the LSTM, the from-scratch Transformer and the CNN "
         "over words all say negative.",
         "The pretrained reader first read a great deal of English, where \"not bad\" is common; the three "
         "others learned from 67,000 short film-review phrases only.",
         "compare-pretrained_transformer", opens="compare", text=NOT_BAD),
    Step("rnn-not-good", "rnn", "\"not\" before the word it negates", "Read \"This movie is not good.\"",
         "The line drops at \"not\" (0.78 to 0.06) before \"good\" arrives, and \"good\" lifts it only to "
         "0.18. Type \"This movie is good.\" to see \"good\" alone send it to 1.00.",
         "Reading left to right, the LSTM must update its memory at \"not\" before it knows what is negated.",
         "rnn-belief", text="This movie is not good."),
    Step("rnn-contrast", "rnn", "A turn after \"but\"", f"Read \"{CONTRAST}\"",
         "The line reaches 1.00 at \"wonderful\" and stays there through \"but\"; it falls to 0.11 only at "
         "\"mess\".",
         "\"but\" itself hardly moves this LSTM: it changes its mind on the strongly negative word, and the "
         "last words weigh most in its final state.",
         "rnn-belief", text=CONTRAST),
    Step("rnn-not-boring", "rnn", "\"not boring\": open the Transformer", f"Read \"{NOT_BORING}\" in the "
         "Transformer tab.",
         "The pretrained Transformer says positive (77%); on the RNN tab the LSTM says negative (15%): "
         "its line falls at \"not\" (0.88 to 0.09), and \"boring\" does not lift it back.",
         "Attention lets every word look at every other in each layer, so \"not\" and \"boring\" are read "
         "together; the LSTM met them one at a time.",
         "transformer-prediction", opens="transformer", text=NOT_BORING, reader=PRE),
    # ---------------------------------------------------------------- Transformer
    Step("tr-not-bad", "transformer", "\"not bad\", pretrained", f"Read \"{NOT_BAD}\" with the pretrained reader.",
         "Positive, 100%. Yet of the words, \"bad\" is the one the classifier's summary attends to most "
         "('What the classifier attends to').",
         "Attention shows where the model looks, not which way a word pushes: by the last layer, the "
         "state at \"bad\" has already taken in the \"not\" before it.",
         "transformer-tokens", text=NOT_BAD, reader=PRE),
    Step("tr-not-bad-scratch", "transformer", "The same, from scratch", "The same sentence, from-scratch reader.",
         "Negative, 97%.",
         "Same family, same training phrases as the LSTM: without pretraining, 67,000 short phrases were not "
         "enough to learn what \"not\" does to the next word.",
         "transformer-prediction", text=NOT_BAD, reader=SCRATCH),
    Step("tr-order", "transformer", "Same words, other order", f"Read \"{SWAPPED}\" (pretrained).",
         f"Positive (98%). In the other order, \"{CONTRAST}\", it says negative (99%).",
         "The words are the same; only their positions changed. The pretrained reader adds a learned position "
         "to each word and learned that what comes after \"but\" usually decides.",
         "transformer-prediction", text=SWAPPED, reader=PRE),
    Step("tr-order-scratch", "transformer", "Other order, from scratch", "The same sentence, from-scratch reader.",
         "Negative (100%), in both orders: it hears \"mess\" either way.",
         "Knowing positions is not the same as having learned what to do with them; that takes data.",
         "transformer-prediction", text=SWAPPED, reader=SCRATCH),
    Step("tr-previous", "transformer", "A head that looks one word back",
         f"Read \"{CONTRAST}\" with the pretrained reader, layer 1, head 3.",
         "In the attention map almost every row puts all its weight one square left of the diagonal: "
         "each token looks at the token just before it.",
         "A head that hands every word its left neighbour is a building block for reading pairs such as "
         "\"not bad\" in later layers.",
         "transformer-attention", text=CONTRAST, reader=PRE, layer="1", head="3"),
    Step("tr-sink", "transformer", "A head with nothing to do",
         "The same sentence in layer 6, head 8.",
         "Nearly all the attention goes to the first column, [CLS] (the token added at the start).",
         "Attention weights in a row must add up to 1; a head that has nothing useful to look for parks its "
         "weight on a token that is always there, an 'attention sink'.",
         "transformer-attention", text=CONTRAST, reader=PRE, layer="6", head="8"),
    # ---------------------------------------------------------------- Write
    Step("wr-romeo", "write", "A speech, then the next speaker", "Write 200 characters after \"ROMEO:\".",
         "All three write a line or two of verse, then a blank line and a new speaker's name in capitals with "
         "a colon (LADY ANNE:, DUKE OF AUMERLE:, LUCIO:).",
         "A play's layout is the most regular thing in the text, and all three learned it from characters "
         "alone: nobody told them what a name or a line is.",
         "write-char_gpt", prompt="ROMEO:\n", length=200, temperature=0.8),
    Step("wr-cold", "write", "Temperature 0.1", "The same prompt at temperature 0.1.",
         "The same few words come back again and again: the sea, the state, the prince.",
         "At a low temperature the likeliest next character nearly always wins, and the likeliest ways out of "
         "common words lead back into the same phrases.",
         "write-char_rnn", prompt="ROMEO:\n", length=150, temperature=0.1),
    Step("wr-hot", "write", "Temperature 2.0", "The same prompt at temperature 2.0.",
         "Capitals in the middle of words, invented words, stray signs such as $.",
         "A high temperature flattens the odds, so characters the model finds unlikely get nearly the same "
         "chance as the likely ones.",
         "write-char_rnn", prompt="ROMEO:\n", length=150, temperature=2.0),
    Step("wr-sample", "write", "The likeliest is not always written", "Write 40 characters after "
         "\"To be, or not to b\".",
         "The LSTM finishes \"be\", but the GPT writes \"buy\". Move 'Written character' to 1: the GPT gave "
         "'e' 89% and 'u' 2%.",
         "Writing draws each character by its odds. A 2% character is drawn about once in 50 tries, and after "
         "that the model carries on from what was drawn.",
         "write-candidates", prompt="To be, or not to b", length=40, temperature=0.8),
    # ---------------------------------------------------------------- Compare
    Step("cmp-not-bad", "compare", "\"not bad\"", f"Read \"{NOT_BAD}\" with all four",
         "Only the pretrained Transformer says positive; the LSTM says 30% positive, the from-scratch "
         "Transformer 3%, the CNN over words 9%.",
         "Negation needs the words read together, and enough text to learn what they mean together.",
         "compare-pretrained_transformer", text=NOT_BAD),
    Step("cmp-not-boring", "compare", "\"not boring\"", f"Read \"{NOT_BORING}\"",
         "The same split: the pretrained Transformer positive (77%), the three small readers negative.",
         "Two negative-looking words that together praise the film: only the reader that learned from a "
         "lot of English reads them as a pair.",
         "compare-pretrained_transformer", text=NOT_BORING),
    Step("cmp-won-over", "compare", "Right for a wrong reason", "Read \"I expected to hate it, but it won me over.\"",
         "The CNN over words is the only one to say positive (66%); the pretrained reader is on the fence "
         "(49%). In the CNN's highlights, its strongest push towards positive comes from \"i expected to hate\".",
         "A right answer says little about how it was reached; the insides do. A CNN over words reacts to "
         "short windows of words wherever they are, whatever surrounds them.",
         "compare-text_cnn-tokens", text="I expected to hate it, but it won me over."),
    Step("cmp-order", "compare", "Word order", f"Read \"{SWAPPED}\"",
         "Only the pretrained Transformer follows the turn (98% positive); the LSTM, the from-scratch "
         "Transformer and the CNN over words all say negative.",
         "Each of the small readers can see order in principle; only the pretrained one learned, from a lot "
         "of text, that the clause after \"but\" usually carries the verdict.",
         "compare-pretrained_transformer", text=SWAPPED),
    Step("cmp-sarcasm", "compare", "Sarcasm fools them all", "Read \"Oh great, another two hours of my life I "
         "will never get back.\"",
         "All four say positive (55% to 91%) for a sentence that means the opposite.",
         "Sarcasm says the reverse of its words, and none of these readers learned to hear it "
         "from film-review phrases.",
         "compare-rnn", text="Oh great, another two hours of my life I will never get back."),
]  # fmt: skip

BY_ID = {s.id: s for s in STEPS}


def steps_on(tab: str) -> list[Step]:
    """The steps listed on a tab, in order."""
    return [s for s in STEPS if s.tab == tab]
