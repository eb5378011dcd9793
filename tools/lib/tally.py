"""The count of test cases that ./tools/test and its suite runners report (passed, failed,
skipped, and what failed)."""


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def ok(self):
        self.passed += 1

    def skip(self):
        self.skipped += 1

    def fail(self, what):
        self.failed += 1
        self.failures.append(what)

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.failures += other.failures
