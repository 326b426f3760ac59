"""Pasted REPL transcripts become code; plain scripts pass through unchanged."""

from __future__ import annotations

from explorer.lang.transcript import is_transcript, strip_prompts


def test_plain_script_is_unchanged() -> None:
    text = "x = 1\ny = x + 2\n"
    code = strip_prompts(text)
    assert code.text == text
    assert not is_transcript(text)


def test_prompts_are_stripped_and_outputs_blanked_keeping_line_numbers() -> None:
    code = strip_prompts(">>> x = 1\n>>> x\n1\n")
    assert code.text.splitlines() == ["x = 1", "x", ""]
    assert code.original_column(1, 1) == 5


def test_short_prompts_and_continuations() -> None:
    code = strip_prompts(">> for i in range(2):\n..     print(i)\n0\n1\n")
    assert code.text.splitlines() == ["for i in range(2):", "    print(i)", "", ""]


def test_continuation_that_lost_its_indentation_is_indented_again() -> None:
    code = strip_prompts(">> with torch.no_grad():\n.. print(1)\n")
    assert code.text.splitlines() == ["with torch.no_grad():", "    print(1)"]
    assert code.original_column(2, 5) == 4  # "print" starts at column 4 of ".. print(1)"


def test_lines_before_the_first_prompt_are_code() -> None:
    code = strip_prompts("x = 1\n>>> x\n1\n")
    assert code.text.splitlines() == ["x = 1", "x", ""]


def test_prompt_inside_a_triple_quoted_string_is_text() -> None:
    text = 'note = """\nAn example:\n>>> y = 2 * x\n"""\nx = 1\n'
    assert not is_transcript(text)
    assert strip_prompts(text).text == text


def test_script_with_a_doctest_string_runs_as_written() -> None:
    from explorer.runs.session import run_script

    doc = "doc = '''\n>>> x.grad\ntensor([16.])\n'''\n"
    code = "x = torch.tensor([4.0], requires_grad=True)\ny = 2 * x**2 + 3\ny.backward()\n"
    snapshot = run_script(doc + code + "print(x.grad)\n")
    assert snapshot.problem is None
    assert [o.text for o in snapshot.outputs] == ["tensor([16.])"]


def test_transcript_with_a_string_in_its_output_is_still_one() -> None:
    text = ">>> s = 'a'\n>>> print(s)\n'unterminated output\n>>> t = 1\n"
    assert is_transcript(text)
    assert strip_prompts(text).text.splitlines() == ["s = 'a'", "print(s)", "", "t = 1"]
