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
