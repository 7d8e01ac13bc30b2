"""A burst: simulated students texting, reading the answers, and texting again.

Every student's first text is planned by the arrival process. After each text the
student waits a drawn delay, then reads what came back: an answer matching
`retry_when` (say "invalid|try again"), or no answer at all within `no_reply_after_s`,
makes them text again with `retry_probability`, up to `max_retries` times, the same body
or a typo of it. Impatient students also send duplicates that ignore every answer.

All draws are keyed by (student, text number), so one seed and one app give the same
texts at the same planned times, however the run interleaves, and a run split over worker
processes (`share`: each plays every N-th student) sends the same texts as one process.
"""

from __future__ import annotations

from dataclasses import dataclass

from twsim.model.clock import Clock
from twsim.scenario.arrivals import first_texts
from twsim.scenario.draws import Draws
from twsim.scenario.pace import Pace
from twsim.scenario.population import Population
from twsim.scenario.scheduler import OpenScheduler
from twsim.scenario.spec import Scenario, Span
from twsim.scenario.target import Target, Text

# draw purposes
DELAY, RETRY, IMPATIENT, DUPLICATES, DUPLICATE_DELAY = 20, 21, 22, 23, 24


@dataclass(slots=True)
class Student:
    """One simulated phone's state during a burst."""

    index: int
    phone: str
    body: str
    media: tuple[str, ...] = ()
    texts: int = 0
    retries: int = 0
    last_planned: float = 0.0
    reply: str | None = None
    done: bool = False


class Burst:
    def __init__(
        self,
        scenario: Scenario,
        target: Target,
        *,
        to: str,
        speed: float = 1.0,
        share: tuple[int, int] = (0, 1),
        clock: Clock | None = None,
    ) -> None:
        self.scenario = scenario
        self.share = share  # (w, N): this run plays the students whose index % N == w
        self.model = scenario.model
        self.target = target
        self.to = to
        self.population = Population(scenario)
        self.draws = Draws(f"{scenario.seed}/students")
        self.scheduler = OpenScheduler(speed, clock=clock)
        self.students: list[Student] = []
        self._by_phone: dict[str, Student] = {}
        self.planned: list[Text] = []
        self.keep_plan = True
        self.pace = Pace()
        self.halted = False

    @property
    def sent(self) -> int:
        return sum(s.texts for s in self.students)

    def _span(self, span: Span, *keys: int) -> float:
        return self.draws.uniform(span.low, span.high, *keys)

    def prepare(self) -> None:
        """Create the students and plan their first texts (and impatient duplicates)."""
        population = self.population
        starts = first_texts(
            self.scenario.arrival, len(population), Draws(f"{self.scenario.seed}/arrivals")
        )
        impatience = self.model.impatience
        part, parts = self.share
        for index, phone in enumerate(population.phones):
            if index % parts != part:
                continue
            body, media = population.intended_body(index)
            student = Student(index, phone, body, tuple(media))
            self.students.append(student)
            self._by_phone[phone] = student
            self._plan(student, starts[index], "first")
            if self.draws.chance(impatience.probability, IMPATIENT, index):
                low, high = impatience.extra_texts
                at = starts[index]
                for extra in range(self.draws.integer(low, high, DUPLICATES, index)):
                    at += self._span(impatience.delay, DUPLICATE_DELAY, index, extra)
                    self._plan(student, at, "duplicate")

    def _plan(self, student: Student, at: float, kind: str) -> None:
        if self.halted:
            return
        self.pace.plan(at)
        self.scheduler.at(at, lambda lateness: self._fire(student, at, kind, lateness))

    def _fire(self, student: Student, at: float, kind: str, lateness: float) -> None:
        number = student.texts
        student.texts += 1
        body = (
            self.population.body_for(student.index, number, student.body)
            if kind == "retry"
            else student.body
        )
        text = Text(student.phone, self.to, body, at, kind, student.index, number, student.media)
        if self.keep_plan:
            self.planned.append(text)
        if kind != "duplicate":
            student.reply = None
            student.last_planned = at
            decide_at = at + self._span(self.model.delay, DELAY, student.index, number)
            self.scheduler.at(decide_at, lambda _: self._decide(student, decide_at))
        self.target.send(text, lateness)

    def on_reply(self, phone: str, body: str) -> None:
        student = self._by_phone.get(phone)
        if student is not None:
            student.reply = body

    def _decide(self, student: Student, at: float) -> None:
        model = self.model
        if student.done or student.retries >= model.max_retries:
            student.done = True
            return
        if student.reply is not None:
            wants_retry = (
                model.retry_when is not None and model.retry_when.search(student.reply) is not None
            )
        else:
            deadline = student.last_planned + model.no_reply_after_s
            if at < deadline:
                self.scheduler.at(deadline, lambda _: self._decide(student, deadline))
                return
            wants_retry = True
        if not wants_retry or not self.draws.chance(
            model.retry_probability, RETRY, student.index, student.texts
        ):
            student.done = True
            return
        student.retries += 1
        self._plan(student, at, "retry")

    def halt(self) -> None:
        """Send nothing more: drop every planned text and decision (a run stopped early)."""
        self.halted = True
        self.scheduler.close()

    async def run(self, quiet_timeout: float | None = 120.0) -> None:
        """Run the whole burst and wait until the gateway is quiet."""
        self.target.listen(self.on_reply)
        self.scheduler.start()
        self.prepare()
        await self.scheduler.idle()
        await self.target.quiet(quiet_timeout)
