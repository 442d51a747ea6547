"""The training progress bar: what it prints on a terminal and in a log."""
import io

import pytest

from minitorch_cv.utils import ProgressBar, format_duration


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_format_duration():
    assert format_duration(0) == "00:00"
    assert format_duration(59.6) == "01:00"
    assert format_duration(3599) == "59:59"
    assert format_duration(3600 + 62) == "1:01:02"


def test_log_mode_prints_a_line_per_tenth_and_a_final_one():
    stream = io.StringIO()
    bar = ProgressBar(total=25, desc="epoch 1/3", unit="img", stream=stream)
    assert not bar.dynamic  # StringIO is not a terminal
    for _ in range(25):
        bar.update(1, items=8)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    # tenths 1..9 are crossed at batches 3, 5, 8, 10, 13, 15, 18, 20, 23; then the end
    assert len(lines) == 10
    assert lines[0].startswith("epoch 1/3  12% |")
    assert " 3/25 [" in lines[0]
    assert lines[-1].startswith("epoch 1/3 100% |####################| 25/25 [")
    assert "img/s]" in lines[-1] and "<00:00," in lines[-1]


def test_close_does_not_repeat_the_last_line():
    stream = io.StringIO()
    bar = ProgressBar(total=10, stream=stream)
    for _ in range(4):
        bar.update()
    bar.close()
    bar.close()
    lines = stream.getvalue().splitlines()
    assert [line.split("|")[2].split("[")[0].strip() for line in lines] == ["1/10", "2/10",
                                                                           "3/10", "4/10"]


def test_postfix_is_computed_only_when_drawn():
    calls = []

    def postfix():
        calls.append(1)
        return {"loss": "1.234", "acc": "56.70%"}

    stream = io.StringIO()
    bar = ProgressBar(total=100, stream=stream)
    for _ in range(100):
        bar.update(1, items=1, postfix=postfix)
    bar.close()
    assert len(calls) == 10  # nine tenths and the final line, not 100 reads
    assert stream.getvalue().splitlines()[-1].endswith("loss 1.234 acc 56.70%")


def test_terminal_mode_redraws_in_place():
    stream = Terminal()
    bar = ProgressBar(total=4, desc="train", stream=stream, interval=0)
    for _ in range(4):
        bar.update(1, items=2)
    bar.close()
    text = stream.getvalue()
    assert bar.dynamic
    assert text.count("\r") == 4  # three redraws during the run, one at the end
    assert text.endswith("\n") and text.count("\n") == 1
    assert "4/4" in text.split("\r")[-1]


def test_resumed_bar_starts_at_initial_and_rate_counts_new_work_only():
    bar = ProgressBar(total=10, stream=io.StringIO(), initial=6)
    bar.update(1)
    text = bar.text()
    assert " 7/10 [" in text and "70%" in text


def test_bad_total():
    with pytest.raises(ValueError, match="total"):
        ProgressBar(total=-1)
