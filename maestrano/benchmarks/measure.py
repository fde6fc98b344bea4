"""What every benchmark shares: the figure it reports and a steady load of writers."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

WARM_UP_WRITES = 3
PROGRESS_SECONDS = 0.5


class BenchmarkFailed(Exception):
    """The measured system answered wrongly; the figure would mean nothing."""


@dataclass(frozen=True)
class Figure:
    """One speed figure next to its ceiling, measured in the same run."""

    name: str
    value: float
    unit: str
    ceiling: float
    target: float
    # What else a reader needs to judge the figure, such as the times it came from.
    detail: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.ceiling if self.ceiling else 0.0

    @property
    def met(self) -> bool:
        return self.ratio >= self.target

    def as_json(self) -> dict:
        figure = {
            "name": self.name,
            "value": round(self.value, 1),
            "unit": self.unit,
            "ceiling": round(self.ceiling, 1),
            "ratio": round(self.ratio, 3),
            "target": self.target,
            "met": self.met,
        }
        if self.detail:
            figure["detail"] = self.detail
        return figure

    def line(self) -> str:
        verdict = "met" if self.met else "NOT met"
        line = (
            f"{self.name}: {self.value:.1f} {self.unit}, ceiling {self.ceiling:.1f} "
            f"{self.unit}, ratio {self.ratio:.3f} (target {self.target:.2f}, {verdict})"
        )
        return f"{line}; {self.detail}" if self.detail else line


class Writer(Protocol):
    def write(self) -> None: ...

    def close(self) -> None: ...


def writes_per_second(
    open_writer: Callable[[], Writer],
    *,
    threads: int,
    seconds: float,
    progress: Callable[[str], None],
    label: str,
) -> float:
    """Run one writer per thread for ``seconds``; return the writes per second.

    Each writer first makes a few writes that are not counted (connections open,
    caches fill); then all of them start the clock together.
    """
    counts = [0] * threads
    finished = [0.0] * threads
    failures = []
    clock = {}
    halt = threading.Event()

    def start_clock():
        clock["started"] = time.monotonic()
        clock["deadline"] = clock["started"] + seconds

    ready = threading.Barrier(threads, action=start_clock)

    def drive(slot):
        writer = None
        try:
            writer = open_writer()
            for _ in range(WARM_UP_WRITES):
                writer.write()
            ready.wait()
            while not halt.is_set() and time.monotonic() < clock["deadline"]:
                writer.write()
                counts[slot] += 1
            finished[slot] = time.monotonic()
        except threading.BrokenBarrierError:
            pass
        except Exception as failure:  # noqa: BLE001 - raised again below
            failures.append(failure)
            ready.abort()
        finally:
            if writer is not None:
                writer.close()

    drivers = [threading.Thread(target=drive, args=(slot,)) for slot in range(threads)]
    for driver in drivers:
        driver.start()
    try:
        while any(driver.is_alive() for driver in drivers):
            if clock:
                elapsed = min(time.monotonic() - clock["started"], seconds)
                progress(f"{label}: {elapsed:4.1f}/{seconds:g} s, {sum(counts)} writes")
            else:
                progress(f"{label}: warming up")
            time.sleep(PROGRESS_SECONDS)
    except BaseException:
        # Interrupted (Ctrl-C): the writers finish the write in hand and stop, so
        # that the caller's clean-up sees everything they wrote.
        halt.set()
        ready.abort()
        for driver in drivers:
            driver.join()
        raise
    if failures:
        raise BenchmarkFailed(f"{label}: {failures[0]}") from failures[0]

    return sum(counts) / (max(finished) - clock["started"])


def rates_in_turns(
    openers: dict[str, Callable[[], Writer]],
    *,
    rounds: int,
    threads: int,
    seconds: float,
    progress: Callable[[str], None],
    label: str,
) -> dict[str, float]:
    """Return the mean writes per second of each kind of writer in ``openers``.

    The kinds take turns, ``rounds`` times each, for an equal share of
    ``seconds``, so that a neighbour's burst of work on a shared machine weighs
    on a figure and on its ceiling alike.
    """
    share = seconds / rounds
    rates = {name: 0.0 for name in openers}
    for round_number in range(1, rounds + 1):
        for name, open_writer in openers.items():
            rates[name] += writes_per_second(
                open_writer,
                threads=threads,
                seconds=share,
                progress=progress,
                label=f"{label} {name} {round_number}/{rounds}",
            )
    return {name: total / rounds for name, total in rates.items()}
