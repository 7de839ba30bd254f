"""The exercise checkers: right answers pass, typical wrong answers get their hint, no message
gives the answer away.

Expected answers here are worked by hand in the comments (not taken from the lib), as in
tests/test_worked_numbers.py.
"""

import math
import re

import pytest

from lib import checkers
from lib.checkers import (PRACTICE_STEPS, CheckResult, check_bias_correction, check_memory,
                          check_momentum_gains, check_schedule)

# --- the right answers, by hand ---------------------------------------------------------------------

# Practice 1, beta = 0.9: a steady g sums to g (1 + 0.9 + 0.81 + ...) = g / (1 - 0.9) = 10 g;
# an alternating one to g (1 - 0.9 + 0.81 - ...) = g / (1 + 0.9) = 0.526316 g.
STEADY, ALTERNATING = 10.0, 1 / 1.9
# Practice 2: 1 / (1 - 0.9) = 10 and 1 / (1 - 0.999) = 1000 at step 1; at step 100
# 0.9^100 = 2.6561e-5 and 0.999^100 = 0.9047921 (see test_worked_numbers.py), so the factors are
# 1 / (1 - 2.6561e-5) = 1.0000265621 and 1 / 0.0952079 = 10.50334.
BIAS = {1: (10.0, 1000.0), 100: (1.0000265621, 10.50334)}
# Practice 3: plain SGD keeps nothing; AdamW keeps m and v, 2 x 4 bytes per float32 parameter:
# 7e9 x 8 B = 56e9 B = 56 GB.
SGD_GB, ADAMW_GB = 0.0, 56.0
# Practice 4: 0 at step 0; 2e-4 * 1000/2000 = 1e-4; the peak 2e-4 at step 2000; at step 50000
# the decay's progress is 48000/98000 = 24/49 and cos(pi 24/49) = sin(pi/98), so
# 2e-5 + 9e-5 (1 + sin(pi/98)) = 1.128846e-4; and min_lr 2e-5 at the end.
SCHEDULE = [0.0, 1e-4, 2e-4, 2e-5 + 9e-5 * (1 + math.sin(math.pi / 98)), 2e-5]

# Strings that would give an answer away, per checker (the problem's givens, such as the peak
# 2e-4, are not secrets).
SECRETS = {
    "momentum": ["10", "10.0", "0.526", "0.53", "0.5263", "1/1.9", "1.9"],
    "bias1": ["10", "10.0", "1000", "1e3", "1e+03", "0.1", "0.001"],
    "bias100": ["10.5", "10.50", "10.503", "1.00003", "1.0000266", "2.66e-05", "0.0952", "0.095"],
    "memory": ["56", "56.0", "5.6e10", "5.6e+10", "56e9", "52.1", "52.15", "52.2", "8 bytes per parameter"],
    "schedule": ["0.0001", "1e-4", "1e-04", "1.0e-04", "0.000113", "0.0001129", "1.13e-4",
                 "1.13e-04", "1.129e-04", "1.1288", "0.0320"],
}


def leaks(result, secrets):
    """The secrets that occur in the result's message, repr or HTML as whole numbers."""
    texts = [result.message, repr(result), str(result), *result._repr_mimebundle_().values()]
    found = []
    for secret in secrets:
        pattern = r"(?<![\w.])" + re.escape(secret) + r"(?![\w]|\.\d)"
        if any(re.search(pattern, text) for text in texts):
            found.append(secret)
    return found


# --- right answers pass -----------------------------------------------------------------------------

def test_right_answers_pass_and_say_so_without_the_number():
    results = {
        "momentum": check_momentum_gains(STEADY, ALTERNATING),
        "bias1": check_bias_correction(1, *BIAS[1]),
        "bias100": check_bias_correction(100, *BIAS[100]),
        "memory": check_memory(SGD_GB, ADAMW_GB),
        "schedule": check_schedule(SCHEDULE),
    }
    for name, result in results.items():
        assert isinstance(result, CheckResult)
        assert result, f"{name}: {result}"
        assert repr(result).startswith("✓"), name
        assert "✓" in result._repr_html_()
        assert not leaks(result, SECRETS[name]), (name, leaks(result, SECRETS[name]))


@pytest.mark.parametrize("call", [
    lambda: check_momentum_gains(10, -1 / 1.9),                 # the alternating sign is free
    lambda: check_momentum_gains(10.04, 0.53),                  # within 1 %
    lambda: check_bias_correction(1, 10.0, 1000.0),
    lambda: check_bias_correction(100, 1.0, 10.5),              # the note asks for rough values
    lambda: check_memory(0, 56),
    lambda: check_memory(0.0, 56.5),
    lambda: check_schedule({0: 0, 1000: 1e-4, 2000: 2e-4, 50000: 1.13e-4, 100000: 2e-5}),
    lambda: check_schedule(tuple(SCHEDULE)),
    lambda: check_schedule({**dict(zip(PRACTICE_STEPS, SCHEDULE)),     # extra steps are checked
                            70_000: 2e-5 + 9e-5 * (1 + math.cos(math.pi * 68 / 98))}),
], ids=["momentum-sign", "momentum-rounded", "bias-1", "bias-100-rough", "memory-int",
        "memory-rounded", "schedule-dict", "schedule-tuple", "schedule-extra-step"])
def test_right_answers_in_other_forms(call):
    result = call()
    assert result, result


def test_other_hyperparameters_change_the_answer():
    # beta1 = 0.5, beta2 = 0.75 at step 2: 1/(1 - 0.25) = 4/3 and 1/(1 - 0.5625) = 16/7.
    assert check_bias_correction(2, 4 / 3, 16 / 7, beta1=0.5, beta2=0.75)
    assert not check_bias_correction(2, *BIAS[1], beta1=0.5, beta2=0.75)
    # One billion float32 parameters: AdamW keeps 8 bytes each, 8 GB.
    assert check_memory(0, 8, n_params=1e9)
    # float64 weights: AdamW's moments take 16 bytes per parameter.
    assert check_memory(0, 112, dtype="float64")
    # beta = 0.5: steady 1/(1 - 0.5) = 2, alternating 1/(1 + 0.5) = 2/3.
    assert check_momentum_gains(2, 2 / 3, beta=0.5)
    # Peak 1, warmup 10, total 110, min 0: step 5 -> 0.5, step 60 (half the decay) -> 0.5.
    assert check_schedule({0: 0, 1000: 0, 2000: 0, 50000: 0, 100000: 0, 5: 0.5, 60: 0.5},
                          peak_lr=1.0, min_lr=0.0, warmup_steps=10, total_steps=110)


# --- typical wrong answers get their hint -----------------------------------------------------------

WRONG = [
    # (secrets, call, words the hint must contain)
    ("momentum", lambda: check_momentum_gains(9, ALTERNATING), "counts only the past"),
    ("momentum", lambda: check_momentum_gains(0.1, ALTERNATING), "not a sum"),
    ("momentum", lambda: check_momentum_gains(0.9, ALTERNATING), "not a sum"),
    ("momentum", lambda: check_momentum_gains(1, ALTERNATING), "keeps growing"),
    ("momentum", lambda: check_momentum_gains(10, 10), "partly cancel"),
    ("momentum", lambda: check_momentum_gains(10, 1), "not just the latest gradient"),
    ("momentum", lambda: check_momentum_gains(10, 0.1), "ratio -beta"),
    ("momentum", lambda: check_momentum_gains(12, ALTERNATING), "too high"),
    ("momentum", lambda: check_momentum_gains(10, 0.3), "too low"),
    ("bias1", lambda: check_bias_correction(1, 1.0, 1.0), "forgot the bias correction"),
    ("bias1", lambda: check_bias_correction(1, 0.1, 0.001), "reciprocal"),
    ("bias1", lambda: check_bias_correction(1, 0.9, 0.999), "not by beta^t"),
    ("bias1", lambda: check_bias_correction(1, 1000.0, 10.0), "Swapped"),
    ("bias1", lambda: check_bias_correction(1, 1 / (1 - 0.81), 1 / (1 - 0.999**2)), "Off by one"),
    ("bias1", lambda: check_bias_correction(1, 10.0, 1.0), "v needs its own correction"),
    ("bias1", lambda: check_bias_correction(1, 1.0, 1000.0), "m needs its own correction"),
    ("bias1", lambda: check_bias_correction(1, -10.0, 1000.0), "greater than 1"),
    ("bias1", lambda: check_bias_correction(1, 10.0, 900.0), "v_hat_factor is too low"),
    ("bias100", lambda: check_bias_correction(100, 1.0, 1.0), "v needs its own correction"),
    ("bias100", lambda: check_bias_correction(100, 1 / (1 - 0.9**99), 1 / (1 - 0.999**99)),
     "Off by one"),
    ("bias100", lambda: check_bias_correction(100, 1.0, 1 - 0.999**100), "reciprocal"),
    ("bias100", lambda: check_bias_correction(100, 1.0, 10.0), "v_hat_factor is too low"),
    ("memory", lambda: check_memory(28, 84), "count the weights themselves"),
    ("memory", lambda: check_memory(0, 84), "counted the weights as well"),
    ("memory", lambda: check_memory(0, 112), "weights and the gradients"),
    ("memory", lambda: check_memory(0, 56e9), "bytes: divide by 10^9"),
    ("memory", lambda: check_memory(0, 56e9 / 2**30), "GiB"),
    ("memory", lambda: check_memory(0, 56e9 * 8 / 1e9), "bits"),
    ("memory", lambda: check_memory(0, 56e3), "MB"),
    ("memory", lambda: check_memory(0, 28), "two numbers per parameter"),
    ("memory", lambda: check_memory(28, 56), "Plain SGD"),
    ("memory", lambda: check_memory(5, 56), "carry from one step to the next"),
    ("memory", lambda: check_memory(0, 70), "AdamW is too high"),
    ("schedule", lambda: check_schedule([2e-4 / 2000, 2e-4 * 1001 / 2000, 2e-4, SCHEDULE[3], 2e-5]),
     "Off by one in the warmup"),
    ("schedule", lambda: check_schedule([0, 1e-4, 2e-4, 2e-5 + 9e-5, 2e-5]),
     "counts t from step 0"),
    ("schedule", lambda: check_schedule([0, 1e-4, 2e-4, 2e-5 + 9e-5, 2e-5]),
     "timm's default (CosineLRScheduler with warmup_prefix=False)"),
    ("schedule", lambda: check_schedule(
        [0, 1e-4, 2e-4, 2e-5 + 9e-5 * (1 + math.cos(math.pi * 0.48)), 2e-5]), "T is not"),
    ("schedule", lambda: check_schedule([0, 1e-4, 2e-4, 1e-4 * (1 + math.sin(math.pi / 98)), 0]),
     "not to 0"),
    ("schedule", lambda: check_schedule([2e-4, 2e-4 - 0.5 * 1.8e-4 * (1 - math.cos(math.pi * 0.01)),
                                         2e-5 + 9e-5 * (1 + math.cos(math.pi * 0.02)),
                                         2e-5 + 9e-5, 2e-5]), "no warmup"),
    ("schedule", lambda: check_schedule([2e-5, 2e-5 + 0.9e-4, 2e-4, SCHEDULE[3], 2e-5]),
     "not from min_lr"),
    # A straight-line decay: at step 50000 it is 2e-5 + 1.8e-4 * 50/98 = 1.1184e-4, within 1 % of
    # the cosine's value, so the five steps cannot tell the two apart; a quarter of the way into
    # the decay (step 26500) they differ: 2e-5 + 1.8e-4 * 0.75 = 1.55e-4 against the cosine's
    # 2e-5 + 9e-5 (1 + cos(pi/4)) = 1.7364e-4.
    ("schedule", lambda: check_schedule({**dict(zip(PRACTICE_STEPS, SCHEDULE)), 26_500: 1.55e-4}),
     "linear decay"),
    ("schedule", lambda: check_schedule([0, 1e-4, 4e-4, 2e-4, 2e-5]), "exceeds the peak"),
    ("schedule", lambda: check_schedule([0, 1e-4, 2e-4, 1.5e-4, 2e-5]), "cosine decay"),
    ("schedule", lambda: check_schedule([0, 0.5e-4, 2e-4, SCHEDULE[3], 2e-5]), "in the warmup"),
]


@pytest.mark.parametrize("secrets, call, hint", WRONG, ids=[w[2] for w in WRONG])
def test_typical_wrong_answers_get_their_hint_and_not_the_answer(secrets, call, hint):
    result = call()
    assert not result
    assert repr(result).startswith("✗")
    assert hint in result.message, result.message
    assert not leaks(result, SECRETS[secrets]), leaks(result, SECRETS[secrets])


@pytest.mark.parametrize("call, names", [
    (lambda: check_memory(None, None), "sgd_state_gb, adamw_state_gb"),
    (lambda: check_memory(0, ...), "adamw_state_gb"),
    (lambda: check_bias_correction(1, None, 1000), "m_hat_factor"),
    (lambda: check_momentum_gains(None, None), "steady_gain"),
    (lambda: check_schedule(None), "steps 0, 1000"),
    (lambda: check_schedule([0, None, 2e-4, 1e-4, 2e-5]), "step(s) 1000"),
])
def test_unanswered_questions_say_so(call, names):
    result = call()
    assert not result
    assert "Not answered yet" in result.message and names in result.message


@pytest.mark.parametrize("call, words", [
    (lambda: check_memory("56", 0), "single finite number"),
    (lambda: check_memory([0, 1], 56), "single finite number"),
    (lambda: check_memory(0, float("nan")), "single finite number"),
    (lambda: check_schedule([0, 1e-4]), "Give 5 values"),
    (lambda: check_schedule({0: 0, 1000: 1e-4}), "Missing steps: 2000, 50000, 100000"),
    (lambda: check_schedule({-1: 0}), "whole numbers >= 0"),
    (lambda: check_schedule([0, "x", 2e-4, 1e-4, 2e-5]), "single finite number"),
])
def test_malformed_answers_are_explained(call, words):
    result = call()
    assert not result and words in result.message, result.message


def test_bad_problem_settings_raise_and_name_the_argument():
    with pytest.raises(ValueError, match="step must be a whole number >= 1"):
        check_bias_correction(0, 10, 1000)
    with pytest.raises(ValueError, match="beta1"):
        check_bias_correction(1, 10, 1000, beta1=1.0)
    with pytest.raises(ValueError, match="beta"):
        check_momentum_gains(10, 0.5, beta=0.999)
    with pytest.raises(ValueError, match="warmup_steps"):
        check_schedule(SCHEDULE, warmup_steps=200_000)


# --- the result object and the assert mode ----------------------------------------------------------

def test_result_holds_no_expected_value():
    result = check_memory(0, 84)
    # editions: the same verdict's words in the book's other editions (empty outside the build)
    assert set(vars(result)) == {"exercise", "correct", "message", "editions"}
    assert result.editions == ()


def test_strict_mode_raises_with_the_hint_and_returns_the_result_when_right():
    with pytest.raises(AssertionError, match="counted the weights as well") as info:
        check_memory(0, 84, strict=True)
    assert str(info.value).startswith("✗ Optimizer-state memory")
    assert not re.search(r"(?<![\w.])56(?![\w])", str(info.value))
    with pytest.raises(AssertionError, match="Not answered yet"):
        check_schedule(None, strict=True)
    result = check_memory(0, 56, strict=True)
    assert result and isinstance(result, CheckResult)


def test_html_is_escaped_and_marked():
    result = CheckResult("a <b>", False, "x < y & z")
    page = result._repr_html_()
    assert "a &lt;b&gt;" in page and "x &lt; y &amp; z" in page and "✗" in page
    assert 'role="status"' in page


def test_checkers_have_no_answer_literals():
    # The expected values come from lib.optimizers and lib.schedules, not typed-in numbers.
    source = open(checkers.__file__, encoding="utf-8").read()
    for literal in ("56", "1000.0", "10.5", "0.526", "1.1288", "1.13e-4"):
        assert not re.search(r"(?<![\w.])" + re.escape(literal) + r"(?![\w]|\.\d)", source), literal


# --- precision: right to the significant figures the question asks for ----------------------------

def test_each_checker_states_its_precision():
    assert set(checkers.SIGNIFICANT_FIGURES) == {"check_momentum_gains", "check_bias_correction",
                                                 "check_memory", "check_schedule"}
    assert all(isinstance(d, int) and 2 <= d <= 4 for d in checkers.SIGNIFICANT_FIGURES.values())


@pytest.mark.parametrize("value", [1.13e-4, 1.129e-4, 1.1288e-4, 1.1251e-4, 1.1349e-4, 1.124e-4])
def test_schedule_accepts_three_significant_figures(value):
    # 2e-5 + 9e-5 (1 + sin(pi/98)) = 1.128846e-4 (see SCHEDULE above) is 1.13e-4 to 3 figures: a
    # value that rounds to it, [1.125e-4, 1.135e-4), is right, and so is one within half a unit
    # of the third figure (0.005e-4) of the exact value, such as 1.124e-4.
    assert checkers.SIGNIFICANT_FIGURES["check_schedule"] == 3
    assert check_schedule([0, 1e-4, 2e-4, value, 2e-5])


def test_an_answer_rounded_to_two_figures_is_told_the_precision_and_the_convention():
    # The case: the right value rounded to 1.1e-4. Counting the cosine from step 0 gives
    # 2e-5 + 9e-5 (1 + cos(pi/2)) = 1.1e-4 exactly, so at two figures the two conventions agree:
    # the hint names the convention (timm's default) and asks for three figures.
    result = check_schedule([0, 1e-4, 2e-4, 1.1e-4, 2e-5])
    assert not result
    assert "timm's default" in result.message and "not a slip" in result.message
    assert "3 significant figures" in result.message and "2 significant figures" in result.message
    assert not leaks(result, SECRETS["schedule"])


@pytest.mark.parametrize("call, figures", [
    # 1.1288e-4 is 1.13e-4 to 3 figures, 1.1e-4 to 2, and so is 1.14e-4 (1.12e-4 would be the
    # straight-line decay's 1.1184e-4, which has its own hint).
    (lambda: check_schedule([0, 1e-4, 2e-4, 1.14e-4, 2e-5]), 3),
    # 10.50334 is 10.5 to 3 figures; 10.3 is within half a unit (0.5) of it at 2 (10.4 would be
    # step 101's 1 / (1 - 0.999^101) = 10.404, off by one).
    (lambda: check_bias_correction(100, 1.0, 10.3), 3),
])
def test_an_answer_right_to_one_figure_fewer_is_told_so(call, figures):
    result = call()
    assert not result
    assert f"right to {figures - 1} significant figures" in result.message, result.message
    assert f"asks for {figures} significant figures" in result.message


def test_two_figures_are_enough_where_the_question_asks_for_two():
    # Practice 1 asks for 2 figures: 10 and 1/1.9 = 0.526 are 10 and 0.53; 0.52 is not.
    assert check_momentum_gains(10, 0.53) and check_momentum_gains(10.4, 0.526)
    assert not check_momentum_gains(10, 0.52)
    # Practice 3 asks for 2 figures of 56 GB: 55.6 is 56, 55.4 is 55.
    assert check_memory(0, 55.6) and not check_memory(0, 55.4)
    assert not check_schedule([0, 1e-4, 2e-4, 1.136e-4, 2e-5])     # 1.14e-4 to 3 figures


# --- graded mode: a box for the student, a failing cell for nbgrader ---------------------------------

def test_graded_checks_show_their_verdict_and_never_raise_outside_nbgrader(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    wrong = check_memory(0, 84, graded=True)
    assert isinstance(wrong, CheckResult) and not wrong
    assert "counted the weights as well" in wrong.message
    blank = check_schedule(None, graded=True)
    assert not blank and "Not answered yet" in blank.message
    assert check_memory(0, 56, graded=True)


@pytest.mark.parametrize("mode", ["autograde", "validate"])
def test_graded_checks_fail_the_cell_under_nbgrader_and_return_nothing_when_right(monkeypatch,
                                                                                  capsys, mode):
    monkeypatch.setenv("NBGRADER_EXECUTION", mode)            # what nbgrader sets while it runs
    with pytest.raises(AssertionError, match="counted the weights as well"):
        check_memory(0, 84, graded=True)
    with pytest.raises(AssertionError, match="Not answered yet"):
        check_momentum_gains(None, None, graded=True)
    # Right: no returned value (nbgrader would try to read it as a partial score), the verdict is
    # shown as display output instead (printed, outside IPython).
    assert check_memory(0, 56, graded=True) is None
    assert capsys.readouterr().out.startswith("✓ Optimizer-state memory")
    # Without graded=True nothing changes under nbgrader.
    assert not check_memory(0, 84)


# --- the Korean edition: verdicts and hints in the worksheet's language (issue 17) ------------------

HANGUL = re.compile("[\uac00-\ud7af]")
UNANSWERED = [lambda: check_memory(None, None), lambda: check_schedule(None),
              lambda: check_schedule([0, None, 2e-4, 1e-4, 2e-5]), lambda: check_memory("56", 0),
              lambda: check_schedule([0, 1e-4]), lambda: check_schedule({0: 0, 1000: 1e-4}),
              lambda: check_schedule({-1: 0})]


def say_messages():
    """Every message the checkers say: the literal first argument of each ``_say`` call."""
    import ast

    tree = ast.parse(open(checkers.__file__, encoding="utf-8").read())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_say":
            assert isinstance(node.args[0], ast.Constant), ast.dump(node)     # a literal msgid
            found.append(node.args[0].value)
    return sorted(set(found))


def test_every_checker_message_has_its_korean_with_the_same_placeholders_and_numbers():
    import polib

    from lib import i18n

    entries = {e.msgid: e for e in polib.pofile(str(i18n.catalogue_path("ko")))}
    messages = say_messages()
    assert len(messages) >= 60
    for msgid in messages:
        entry = entries.get(msgid)
        assert entry is not None and entry.msgstr and not entry.fuzzy, f"no Korean for {msgid!r}"
        placeholders = lambda text: sorted(re.findall(r"\{(\w+)\}", text))
        assert placeholders(entry.msgstr) == placeholders(msgid), msgid
        # the numbers are kept (the Korean terms 1차/2차 모멘트, first/second moment, add none)
        kept = re.sub(r"[12]차 모멘트", "모멘트", entry.msgstr)
        assert sorted(re.findall(r"\d+", kept)) == sorted(re.findall(r"\d+", msgid)), msgid
        assert HANGUL.search(entry.msgstr), msgid
        if placeholders(msgid):
            assert "python-brace-format" in entry.flags, msgid


@pytest.mark.parametrize("secrets, call, hint", WRONG, ids=[w[2] for w in WRONG])
def test_typical_wrong_answers_get_a_korean_hint_and_not_the_answer(monkeypatch, secrets, call, hint):
    english = call()
    monkeypatch.setenv("OPTBOOK_LANG", "ko")
    korean = call()
    assert not korean and repr(korean).startswith("✗")
    assert HANGUL.search(korean.message) and HANGUL.search(korean.exercise)
    assert korean.message != english.message
    if " " in hint:                                # a phrase (a unit such as "MB" stays a unit)
        assert hint not in korean.message, korean.message
    assert not leaks(korean, SECRETS[secrets]), leaks(korean, SECRETS[secrets])
    assert "optbook-check" in korean._repr_html_()


@pytest.mark.parametrize("call", UNANSWERED)
def test_unanswered_and_malformed_answers_are_explained_in_korean(monkeypatch, call):
    monkeypatch.setenv("OPTBOOK_LANG", "ko")
    result = call()
    assert not result and HANGUL.search(result.message), result.message
    assert "Not answered" not in result.message and "finite number" not in result.message


def test_right_answers_are_right_in_korean_and_english_is_unchanged(monkeypatch):
    calls = [lambda: check_momentum_gains(STEADY, ALTERNATING),
             lambda: check_bias_correction(1, *BIAS[1]), lambda: check_bias_correction(100, *BIAS[100]),
             lambda: check_memory(SGD_GB, ADAMW_GB), lambda: check_schedule(SCHEDULE)]
    english = [call().message for call in calls]
    assert all(m.startswith("Right.") for m in english)
    monkeypatch.setenv("OPTBOOK_LANG", "ko")
    korean = [call() for call in calls]
    assert all(korean) and all(r.message.startswith("정답이다.") for r in korean)
    assert checkers.language() == "ko"
    monkeypatch.delenv("OPTBOOK_LANG")
    assert [call().message for call in calls] == english and checkers.language() == "en"


def test_a_message_without_a_translation_is_an_error_naming_it(monkeypatch):
    from lib import i18n

    monkeypatch.setenv("OPTBOOK_LANG", "ko")
    monkeypatch.setattr(checkers.i18n, "catalogue", lambda lang: i18n.Catalogue.from_pairs([]))
    with pytest.raises(i18n.MissingTranslation, match="Optimizer-state memory.*figures.po"):
        check_memory(28, 84)


def test_a_bad_language_is_refused_with_the_allowed_ones(monkeypatch):
    monkeypatch.setenv("OPTBOOK_LANG", "fr")
    with pytest.raises(ValueError, match="OPTBOOK_LANG must be one of en, ko, got 'fr'"):
        check_memory(28, 84)


@pytest.mark.parametrize("secrets, call, hint", WRONG[:6] + [("memory", lambda: check_memory(SGD_GB, ADAMW_GB), "")],
                         ids=[w[2] for w in WRONG[:6]] + ["right"])
def test_in_the_book_build_a_verdict_carries_its_korean_box(monkeypatch, secrets, call, hint):
    """The book executes once for both editions (OPTBOOK_EDITIONS=en,ko): the English box is the
    verdict, and its Korean variant says what the same check says in a Korean worksheet."""
    from lib import i18n

    monkeypatch.setenv("OPTBOOK_LANG", "ko")
    alone = call()                                    # what a Korean kernel says on its own
    monkeypatch.delenv("OPTBOOK_LANG")
    english = call()
    assert english.editions == ()                     # no other edition: nothing runs twice
    monkeypatch.setenv("OPTBOOK_EDITIONS", "en,ko")
    both = call()
    assert both == english and both.message == english.message
    assert both.editions == (("ko", alone.exercise, alone.message),)
    bundle = both._repr_mimebundle_()
    korean = bundle[i18n.variant_mime("text/html", "ko")]
    assert bundle["text/html"] == english._repr_html_()
    assert korean == alone._repr_html_() and HANGUL.search(korean) and "optbook-check" in korean
    assert bundle[i18n.variant_mime("text/plain", "ko")] == repr(alone)
    assert not leaks(alone, SECRETS.get(secrets, ())), leaks(alone, SECRETS[secrets])


def test_in_the_book_build_a_strict_or_graded_check_still_raises_in_english(monkeypatch):
    monkeypatch.setenv("OPTBOOK_EDITIONS", "en,ko")
    with pytest.raises(AssertionError, match="Optimizer-state memory"):
        check_memory(28, 84, strict=True)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="Optimizer-state memory"):
        check_memory(28, 84, graded=True)
